package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"corral/exec"
	"corral/exec/access"
	"corral/exec/gateway"
	"corral/store"
	"corral/views"
)

// ConsoleShells opens a container's login shell for the browser console
// on the path the SSH gateway uses; *gateway.Shells is one.
type ConsoleShells interface {
	Console(ctx context.Context, who gateway.Who, g gateway.Guest, t gateway.Terminal) (gateway.Outcome, error)
}

func (h *Handler) registerConsoleRoutes(g *echo.Group) {
	g.POST("/containers/:node/:vmid/console/ticket", h.consoleTicket)
	g.GET("/containers/:node/:vmid/console/ws", h.consoleSocket)
}

// consoleFiles are the static files the Console tab loads.
var consoleFiles = []string{"xterm-6.0.0.css", "xterm-6.0.0.min.js", "xterm-addon-fit-0.11.0.min.js", "console.js"}

// consoleView is the Console tab: a terminal for a running container, a
// Start button for a stopped one.
func (h *Handler) consoleView(c echo.Context, u store.User, n store.Node, vmid int, live string) views.ConsoleView {
	v := views.ConsoleView{Available: h.Console != nil, Running: live == "running", Status: live,
		CSRF: csrfToken(c), NodeID: n.ID, VMID: vmid}
	if unregistered(n) {
		v.AddMember = &views.AddMember{CSRF: v.CSRF, ViaID: viaOf(n), Member: n.Name, Return: views.DetailURL(n.ID, vmid) + "?tab=console"}
		return v
	}
	if h.SSHGateway.Port != "" {
		v.SSHCommand = fmt.Sprintf("ssh -t -p %s %s@%s %d", h.SSHGateway.Port, u.Username, hostOnly(c.Request().Host), vmid)
	}
	return v
}

// consoleTicket answers the CSRF-protected POST that precedes the
// WebSocket: a ticket for this user, container and nothing else, good once
// and for consoleTicketTTL. Another account's container is a 404.
func (h *Handler) consoleTicket(c echo.Context) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	if h.Console == nil {
		return &userError{status: http.StatusNotFound, msg: "The browser console is not available on this server."}
	}
	g, err := h.consoleGuest(c.Request().Context(), u, n, vmid)
	if err != nil {
		return err
	}
	if g.Status != "running" {
		return c.JSON(http.StatusConflict, map[string]string{
			"error": fmt.Sprintf("CT %d is %s. Start it to open its console.", vmid, g.Status)})
	}
	t := h.tickets.issue(consoleKey{userID: u.ID, nodeID: n.ID, vmid: vmid})
	return c.JSON(http.StatusOK, map[string]string{
		"url": views.DetailURL(n.ID, vmid) + "/console/ws?ticket=" + url.QueryEscape(t)})
}

// consoleGuest finds CT vmid among the user's containers on the node
// that holds it; anything else is not found.
func (h *Handler) consoleGuest(ctx context.Context, u store.User, n store.Node, vmid int) (gateway.Guest, error) {
	guests, err := access.Directory{Nodes: h.Nodes, Clusters: h.Clusters}.Containers(ctx, u.ID)
	if err != nil {
		return gateway.Guest{}, &userError{status: http.StatusBadGateway, msg: "Corral could not read your containers right now; try again.", err: err}
	}
	for _, g := range guests {
		if g.NodeID == n.ID && g.VMID == vmid {
			return g, nil
		}
	}
	return gateway.Guest{}, store.ErrNotFound
}

// Messages of the console's WebSocket. The browser sends keystrokes as
// binary messages and resizes as {"cols":C,"rows":R} text messages; the
// server sends the terminal's output as binary messages and, last, one
// consoleEnd text message.
type consoleResize struct {
	Cols int `json:"cols"`
	Rows int `json:"rows"`
}

type consoleEnd struct {
	Status  *int   `json:"status,omitempty"` // the shell's exit status
	Reason  string `json:"reason"`           // "exited", "idle timeout", …
	Message string `json:"message,omitempty"`
}

// consoleSocket is the console's WebSocket. It needs the signed-in user's
// session, a page of this origin (Origin), and an unused ticket for this
// very container; then it proxies the container's shell until either side
// ends.
func (h *Handler) consoleSocket(c echo.Context) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	r := c.Request()
	if !sameOrigin(r) {
		return &userError{status: http.StatusForbidden, msg: "The console opens only from Corral's own pages."}
	}
	if h.Console == nil || !h.tickets.redeem(r.URL.Query().Get("ticket"), consoleKey{userID: u.ID, nodeID: n.ID, vmid: vmid}) {
		return &userError{status: http.StatusForbidden, msg: "This console link has expired; open the console again."}
	}
	g, err := h.consoleGuest(r.Context(), u, n, vmid)
	if err != nil {
		return err
	}
	cols, rows := atoiOr(r.URL.Query().Get("cols"), 80), atoiOr(r.URL.Query().Get("rows"), 24)
	// The Origin was checked above, against the Host the browser used.
	ws, err := websocket.Accept(c.Response(), r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil // Accept has answered
	}
	defer ws.CloseNow()
	h.proxyConsole(ws, gateway.Who{User: gateway.UserRef{ID: u.ID, Name: u.Username}, Remote: c.RealIP()}, g, cols, rows)
	return nil
}

// proxyConsole joins the WebSocket to the container's shell until one of
// them ends, then tells the browser how the shell ended.
func (h *Handler) proxyConsole(ws *websocket.Conn, who gateway.Who, g gateway.Guest, cols, rows int) {
	// The hijacked request's context no longer follows the connection:
	// a failed read (the tab closed) cancels this one.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws.SetReadLimit(64 << 10)
	stdin, typed := io.Pipe()
	resize := make(chan exec.Window, 1)
	go func() {
		defer cancel()
		defer typed.Close()
		for {
			kind, msg, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if kind == websocket.MessageBinary {
				if _, err := typed.Write(msg); err != nil {
					return
				}
				continue
			}
			var rs consoleResize
			if json.Unmarshal(msg, &rs) == nil && rs.Cols > 0 && rs.Rows > 0 {
				latest(resize, exec.Window{Cols: rs.Cols, Rows: rs.Rows})
			}
		}
	}()
	out := wsWriter{ctx: ctx, ws: ws}
	res, err := h.Console.Console(ctx, who, g, gateway.Terminal{Stdin: stdin, Stdout: out, Stderr: out,
		Pty: &exec.PtyRequest{Term: "xterm-256color", Cols: cols, Rows: rows}, Resize: resize})
	end := consoleEnd{Reason: res.Reason, Message: res.Message}
	switch {
	case errors.Is(err, gateway.ErrSessionLimit):
		_, why, _ := strings.Cut(err.Error(), ": ")
		end = consoleEnd{Reason: "session limit", Message: why}
	case err != nil:
		end = consoleEnd{Reason: "error", Message: "the console could not be opened"}
	case res.Status >= 0:
		end.Status = &res.Status
	}
	if ctx.Err() != nil {
		return // the browser is gone
	}
	b, _ := json.Marshal(end)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if ws.Write(wctx, websocket.MessageText, b) == nil {
		ws.Close(websocket.StatusNormalClosure, "shell ended")
	}
}

// latest puts w in a one-slot channel, replacing a size nobody took yet.
func latest(ch chan exec.Window, w exec.Window) {
	for {
		select {
		case ch <- w:
			return
		default:
			select {
			case <-ch:
			default:
			}
		}
	}
}

// wsWriter sends what the shell writes as binary messages.
type wsWriter struct {
	ctx context.Context
	ws  *websocket.Conn
}

func (w wsWriter) Write(p []byte) (int, error) {
	if err := w.ws.Write(w.ctx, websocket.MessageBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sameOrigin reports whether the request comes from a page of the host it
// was sent to. Browsers always send Origin on a WebSocket handshake; a
// request without one is not from Corral's page.
func sameOrigin(r *http.Request) bool {
	o, err := url.Parse(r.Header.Get("Origin"))
	if err != nil || o.Host == "" {
		return false
	}
	return o.Host == r.Host
}

func hostOnly(hostport string) string {
	u := url.URL{Host: hostport}
	if h := u.Hostname(); h != "" {
		return h
	}
	return hostport
}

func atoiOr(s string, def int) int {
	if v, err := strconv.Atoi(s); err == nil && v > 0 && v <= 1000 {
		return v
	}
	return def
}

// consoleTicketTTL is how long a console ticket may wait for its WebSocket.
const consoleTicketTTL = 30 * time.Second

// maxConsoleTickets bounds the tickets waiting at once.
const maxConsoleTickets = 10000

// consoleKey is what a ticket opens: one user's console of one container.
type consoleKey struct {
	userID, nodeID string
	vmid           int
}

type consoleTicketEntry struct {
	key     consoleKey
	expires time.Time
}

// consoleTickets are the short-lived single-use tickets of the console's
// WebSocket. A WebSocket handshake cannot carry the CSRF header, so the
// ticket, fetched by a CSRF-checked POST, stands in for it.
type consoleTickets struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]consoleTicketEntry
}

func newConsoleTickets(now func() time.Time) *consoleTickets {
	return &consoleTickets{now: now, m: map[string]consoleTicketEntry{}}
}

func (t *consoleTickets) issue(k consoleKey) string {
	var b [24]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxConsoleTickets {
		for id, e := range t.m {
			if now.After(e.expires) {
				delete(t.m, id)
			}
		}
		if len(t.m) >= maxConsoleTickets {
			clear(t.m) // a flood: tickets waiting now must be asked for again
		}
	}
	t.m[id] = consoleTicketEntry{key: k, expires: now.Add(consoleTicketTTL)}
	return id
}

// redeem uses up the ticket; it opens only k's console, and only once.
func (t *consoleTickets) redeem(id string, k consoleKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[id]
	if !ok {
		return false
	}
	delete(t.m, id)
	return e.key == k && !t.now().After(e.expires)
}
