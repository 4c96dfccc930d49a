package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/store"
	"corral/views"
)

// userError is an error whose message is safe and useful to show.
type userError struct {
	status int
	msg    string
	err    error
}

func (e *userError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}
func (e *userError) Unwrap() error { return e.err }

// classify maps an error to a status and a message the user may see. It is
// the one table that turns causes into words; everything unknown is a 500
// whose cause stays in the log.
func classify(err error) (int, string) {
	var he *echo.HTTPError
	var ue *userError
	var pe *proxmox.Error
	switch {
	case errors.As(err, &ue):
		return ue.status, ue.msg
	case errors.As(err, &he):
		if m, ok := he.Message.(string); ok {
			return he.Code, m
		}
		return he.Code, http.StatusText(he.Code)
	case errors.As(err, &pe):
		return http.StatusBadGateway, pe.UserMessage() + " " + pe.Hint()
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "Not found, or not yours."
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalid):
		return http.StatusUnprocessableEntity, ruleText(err)
	}
	return http.StatusInternalServerError, "Something went wrong on our side. The details are in Corral's log."
}

// errorHandler is Echo's central HTTPErrorHandler.
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := classify(err)
	log := h.Logger.With("method", c.Request().Method, "path", LogPath(c.Request().URL.Path), "status", status)
	if status >= 500 {
		log.Error("request failed", "err", err)
	} else {
		log.Debug("request refused", "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if isHTMX(c) {
		toast(c, "bad", msg)
		_ = h.render(c, status, views.Page{}, views.ErrorFragment(msg))
		return
	}
	title := http.StatusText(status)
	if status == http.StatusNotFound {
		title = "Not found"
	}
	back := "" // an action from the list goes back to it, search and page kept
	if r := c.FormValue("return"); r != "" {
		back = listReturn(r)
	}
	_ = h.render(c, status, h.page(c, title, ""), views.ErrorPage(status, title, msg, back))
}

// ruleText is the rule a store error names, as a sentence for the user:
// "store: create user: invalid: username may contain only ..." becomes
// "Username may contain only ...". The operation and the sentinel's name
// are for the log, not for people.
func ruleText(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{store.ErrInvalid, store.ErrConflict} {
		if _, rule, ok := strings.Cut(msg, sentinel.Error()+": "); ok {
			msg = rule
			break
		}
	}
	if i := strings.LastIndex(msg, "store: "); i >= 0 {
		msg = msg[i+len("store: "):]
	}
	if msg == "" {
		return "That is not allowed."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
