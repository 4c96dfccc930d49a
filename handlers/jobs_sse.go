package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

const (
	// sseHeartbeat keeps proxies from closing a quiet stream.
	sseHeartbeat = 15 * time.Second
	// sseSettle is how long a stream of a finished job waits for the entry
	// announcing the end, which is logged just after the state is saved.
	sseSettle = 2 * time.Second
)

// jobEvents streams a job's log as server-sent events: "log" events (id =
// the entry's Seq, data = a rendered log line), "status" events (the
// re-rendered status panel) after each step marker, and a final "done".
//
// It subscribes before reading the history, then sends live entries with a
// Seq above the last one sent: entries are broadcast only after they are
// saved, so nothing falls between history and live and nothing comes
// twice. Last-Event-ID resumes after the given Seq.
func (h *Handler) jobEvents(c echo.Context) error {
	u, j, n, err := h.userJob(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	filter := c.QueryParam("script")
	last := lastEventID(c.Request())
	live, cancel := h.Provisioner.Subscribe(j.ID)
	defer cancel()
	hist, err := h.Provisioner.Log(ctx, u.ID, j.ID, last)
	if err != nil {
		return err
	}

	s := startSSE(c, filter)

	for _, e := range hist {
		s.entry(e)
		last = e.Seq
	}
	status := func() bool {
		cur, err := h.Provisioner.Job(ctx, u.ID, j.ID)
		if err != nil {
			h.Logger.Warn("job vanished during its stream", "job", j.ID, "err", err)
			return false
		}
		j = cur
		v := jobView(j, n, csrfToken(c), filter)
		v.TemplateChanges = h.templateChanges(ctx, j)
		h.fillReady(ctx, j, n, &v)
		h.fillCleanSnapshot(ctx, j, &v)
		s.component("status", views.JobStatus(v))
		return true
	}
	if !status() || endsRun(hist) {
		s.event("done", "", "end")
		return s.err
	}
	var settle <-chan time.Time
	if !j.State.Active() {
		settle = time.After(sseSettle)
	}
	hb := time.NewTicker(sseHeartbeat)
	defer hb.Stop()
	for s.err == nil {
		select {
		case <-ctx.Done():
			return nil
		case <-settle:
			s.event("done", "", "end")
			return s.err
		case <-hb.C:
			s.write(": heartbeat\n\n")
		case batch, ok := <-live:
			if !ok {
				return nil // lagged behind: the client resumes from its Last-Event-ID
			}
			var marker, terminal bool
			last, marker, terminal = s.entries(batch, last)
			if marker && !status() {
				terminal = true
			}
			if terminal {
				s.event("done", "", "end")
				return s.err
			}
		}
	}
	return nil
}

// lastEventID is the Seq a reconnecting client saw last (0: none).
func lastEventID(r *http.Request) uint64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// sseStream writes events and remembers the first write error (the client
// went away), after which it writes nothing more.
// startSSE answers c with an event stream that is neither cached nor
// buffered by a proxy, sending only log entries that match filter.
func startSSE(c echo.Context, filter string) *sseStream {
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/event-stream")
	hd.Set("Cache-Control", "no-cache, no-transform")
	hd.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	return &sseStream{ctx: c.Request().Context(), w: c.Response(), flush: c.Response().Flush, filter: filter}
}

type sseStream struct {
	ctx    context.Context
	w      io.Writer
	flush  func()
	filter string
	err    error
}

// entries sends the entries of a live batch after last, and reports the new
// last, whether a step marker came (the status panel is due) and whether
// the run ended.
func (s *sseStream) entries(batch []store.LogEntry, last uint64) (newLast uint64, marker, terminal bool) {
	for _, e := range batch {
		if e.Seq <= last {
			continue
		}
		last = e.Seq
		s.entry(e)
		marker = marker || e.Kind != store.EntryLog
		terminal = terminal || e.Terminal()
	}
	return last, marker, terminal
}

func (s *sseStream) entry(e store.LogEntry) {
	if !matchesFilter(e, s.filter) {
		return
	}
	var buf bytes.Buffer
	if err := views.JobLogLine(logLineView(e)).Render(s.ctx, &buf); err != nil {
		s.err = err
		return
	}
	s.event("log", strconv.FormatUint(e.Seq, 10), buf.String())
}

func (s *sseStream) component(name string, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(s.ctx, &buf); err != nil {
		s.err = err
		return
	}
	s.event(name, "", buf.String())
}

// event writes one event. SSE ends a line at CRLF, LF or a lone CR, and
// container output reaches data (a credential key holding a CR once forged
// an "event: status" line), so data is split at all three and no field
// carries a raw CR or LF; the client joins the data lines with LF.
func (s *sseStream) event(name, id, data string) {
	var b strings.Builder
	if id != "" {
		b.WriteString("id: " + sseField(id) + "\n")
	}
	b.WriteString("event: " + sseField(name) + "\n")
	for {
		i := strings.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		b.WriteString("data: " + data[:i] + "\n")
		if strings.HasPrefix(data[i:], "\r\n") {
			i++
		}
		data = data[i+1:]
	}
	b.WriteString("data: " + data + "\n\n")
	s.write(b.String())
}

// sseField drops what would end or void a one-line field: CR, LF, and the
// NUL a client refuses in an id.
func sseField(v string) string {
	if !strings.ContainsAny(v, "\r\n\x00") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '\r' && c != '\n' && c != 0 {
			b = append(b, c)
		}
	}
	return string(b)
}

func (s *sseStream) write(text string) {
	if s.err != nil {
		return
	}
	if _, err := io.WriteString(s.w, text); err != nil {
		s.err = err
		return
	}
	s.flush()
}
