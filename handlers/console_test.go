package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"corral/exec/gateway"
	"corral/store"
)

// consoleWait bounds waits for the shell; it only guards against a hang.
const consoleWait = time.Minute

func consolePath(n store.Node, vmid int) string {
	return fmt.Sprintf("/containers/%s/%d/console", n.ID, vmid)
}

// consoleTicket asks for a ticket as the page does and returns the
// WebSocket path it names, or the response when it was refused.
func consoleTicket(t *testing.T, c *client, n store.Node, vmid int) (string, *response) {
	t.Helper()
	res := c.post(consolePath(n, vmid)+"/ticket", nil)
	if res.StatusCode != http.StatusOK {
		return "", res
	}
	var body struct{ URL string }
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil || !strings.HasPrefix(body.URL, consolePath(n, vmid)+"/ws?ticket=") {
		t.Fatalf("ticket answer %q: %v", res.Body, err)
	}
	return body.URL, res
}

// dialConsole opens the console's WebSocket at path with c's cookies and
// the given Origin ("" sends none).
func dialConsole(t *testing.T, c *client, path, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(t.Context(), consoleWait)
	defer cancel()
	u := "ws" + strings.TrimPrefix(c.srv.URL, "http") + path
	ws, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: h})
	if err == nil {
		t.Cleanup(func() { ws.CloseNow() })
	}
	return ws, res, err
}

// consoleConn is the test's side of a console: what arrived and how the
// shell ended.
type consoleConn struct {
	t   *testing.T
	ws  *websocket.Conn
	out strings.Builder
	end map[string]any
}

func openConsoleWS(t *testing.T, c *client, n store.Node, vmid int) *consoleConn {
	t.Helper()
	path, res := consoleTicket(t, c, n, vmid)
	if path == "" {
		t.Fatalf("ticket: %d %s", res.StatusCode, res.Body)
	}
	ws, _, err := dialConsole(t, c, path+"&cols=100&rows=30", c.srv.URL)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return &consoleConn{t: t, ws: ws}
}

// until reads output until it contains want, or until the end message
// when want is "".
func (cc *consoleConn) until(want string) {
	cc.t.Helper()
	ctx, cancel := context.WithTimeout(cc.t.Context(), consoleWait)
	defer cancel()
	for want == "" || !strings.Contains(cc.out.String(), want) {
		kind, b, err := cc.ws.Read(ctx)
		if err != nil {
			if want == "" && cc.end != nil {
				return
			}
			cc.t.Fatalf("waiting for %q: %v; got %q", want, err, cc.out.String())
		}
		if kind == websocket.MessageText {
			if err := json.Unmarshal(b, &cc.end); err != nil {
				cc.t.Fatalf("end message %q: %v", b, err)
			}
			if want == "" {
				return
			}
			cc.t.Fatalf("shell ended (%s) while waiting for %q; got %q", b, want, cc.out.String())
		}
		cc.out.Write(b)
	}
}

// untilAfter reads until want shows after the first mark bytes of output.
func (cc *consoleConn) untilAfter(mark int, want string) {
	cc.t.Helper()
	ctx, cancel := context.WithTimeout(cc.t.Context(), consoleWait)
	defer cancel()
	for !strings.Contains(cc.out.String()[mark:], want) {
		kind, b, err := cc.ws.Read(ctx)
		if err != nil || kind == websocket.MessageText {
			cc.t.Fatalf("waiting for %q: %v %s; got %q", want, err, b, cc.out.String())
		}
		cc.out.Write(b)
	}
}

func (cc *consoleConn) send(s string) {
	cc.t.Helper()
	if err := cc.ws.Write(cc.t.Context(), websocket.MessageBinary, []byte(s)); err != nil {
		cc.t.Fatal(err)
	}
}

func (cc *consoleConn) resize(cols, rows int) {
	cc.t.Helper()
	if err := cc.ws.Write(cc.t.Context(), websocket.MessageText, fmt.Appendf(nil, `{"cols":%d,"rows":%d}`, cols, rows)); err != nil {
		cc.t.Fatal(err)
	}
}

// TestConsoleSession runs a shell through the console's WebSocket: output,
// the initial size and a resize, the exit status at the end, and the
// audit log's opened and closed entries without what was typed.
func TestConsoleSession(t *testing.T) {
	st := containersTestStart(t, withConsole(nil, nil))
	cc := openConsoleWS(t, st.c, st.pve1, 101)
	cc.send("echo secret-$((6*7))\r")
	cc.until("secret-42")
	cc.send("stty size\r")
	cc.until("30 100\r\n")
	cc.resize(132, 50)
	// The window change and the keys travel separately to the node (as
	// through the SSH gateway), so a command typed at once may still see
	// the old size: ask again, as a person would, until the new one shows.
	for try := 0; !strings.Contains(cc.out.String(), "50 132\r\n"); try++ {
		if try == 20 {
			t.Fatalf("stty size never showed 50 132:\n%s", cc.out.String())
		}
		mark := cc.out.Len()
		cc.send("stty size\r")
		cc.untilAfter(mark, "\r\nroot@mqtt:~# ")
	}
	cc.send("exit 3\r")
	cc.until("")
	if cc.end["status"] != 3.0 || cc.end["reason"] != "exited" {
		t.Errorf("end message %v", cc.end)
	}

	entries, err := st.s.DB.AuditEntries(t.Context(), 20)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range entries {
		if strings.Contains(e.Detail, "secret") {
			t.Errorf("audit entry %s holds what was typed: %q", e.Kind, e.Detail)
		}
		switch e.Kind {
		case gateway.EventConsoleStart:
			kinds = append(kinds, e.Kind)
		case gateway.EventConsoleEnd:
			kinds = append(kinds, e.Kind)
			if e.UserID != st.alice.ID || e.Target != "pve1/101" || !strings.HasPrefix(e.Detail, "exited after ") || !strings.HasSuffix(e.Detail, ", exit status 3") {
				t.Errorf("end entry %+v", e)
			}
		}
	}
	if len(kinds) != 2 {
		t.Errorf("console audit entries %q, want one opened and one closed", kinds)
	}
}

// TestConsoleRefusals: the ticket needs the CSRF token and the
// container's own account; the WebSocket needs a fresh ticket for this
// very container, used once, from a page of the same origin.
func TestConsoleRefusals(t *testing.T) {
	st := containersTestStart(t, withConsole(nil, nil))
	c := st.c
	dialStatus := func(path, origin string) int {
		t.Helper()
		_, res, err := dialConsole(t, c, path, origin)
		if err == nil {
			t.Fatalf("%s (Origin %q): WebSocket opened", path, origin)
		}
		if res == nil {
			t.Fatalf("%s: %v", path, err)
		}
		return res.StatusCode
	}

	t.Run("ticket without CSRF token", func(t *testing.T) {
		res := c.post(consolePath(st.pve1, 101)+"/ticket", url.Values{"_csrf": {"wrong"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", res.StatusCode)
		}
	})
	t.Run("stopped container", func(t *testing.T) {
		_, res := consoleTicket(t, c, st.pve2, 102)
		if res == nil || res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "CT 102 is stopped") {
			t.Errorf("ticket for a stopped container: %d %s", res.StatusCode, res.Body)
		}
	})
	t.Run("no such container", func(t *testing.T) {
		if _, res := consoleTicket(t, c, st.pve1, 999); res == nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("ticket for CT 999: %+v", res)
		}
	})
	t.Run("no ticket", func(t *testing.T) {
		if got := dialStatus(consolePath(st.pve1, 101)+"/ws", c.srv.URL); got != http.StatusForbidden {
			t.Errorf("status %d", got)
		}
	})
	t.Run("foreign or missing Origin", func(t *testing.T) {
		path, _ := consoleTicket(t, c, st.pve1, 101)
		for _, o := range []string{"https://evil.example", ""} {
			if got := dialStatus(path, o); got != http.StatusForbidden {
				t.Errorf("Origin %q: status %d", o, got)
			}
		}
	})
	t.Run("ticket used twice", func(t *testing.T) {
		path, _ := consoleTicket(t, c, st.pve1, 101)
		ws, _, err := dialConsole(t, c, path, c.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		ws.CloseNow()
		if got := dialStatus(path, c.srv.URL); got != http.StatusForbidden {
			t.Errorf("second use: status %d", got)
		}
	})
	t.Run("ticket of another container", func(t *testing.T) {
		path, _ := consoleTicket(t, c, st.pve1, 101)
		other := strings.Replace(path, "/101/", "/100/", 1)
		if got := dialStatus(other, c.srv.URL); got != http.StatusForbidden {
			t.Errorf("status %d", got)
		}
	})
	t.Run("expired ticket", func(t *testing.T) {
		path, _ := consoleTicket(t, c, st.pve1, 101)
		st.s.clock.Add(31 * time.Second)
		if got := dialStatus(path, c.srv.URL); got != http.StatusForbidden {
			t.Errorf("status %d", got)
		}
	})
	t.Run("another account", func(t *testing.T) {
		st.s.withUser(t, "bob", "bob's password")
		bob := st.s.client(t)
		bob.login("bob", "bob's password")
		if _, res := consoleTicket(t, bob, st.pve1, 101); res == nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("bob's ticket for alice's container: %+v", res)
		}
		path, _ := consoleTicket(t, c, st.pve1, 101) // alice's ticket in bob's hands
		_, res, err := dialConsole(t, bob, path, c.srv.URL)
		if err == nil || res == nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("bob opens alice's console: %v %+v", err, res)
		}
	})
}

// TestConsoleSharesSessionLimit: a console counts against the account's
// session limit like an SSH session; past it the browser is told why.
func TestConsoleSharesSessionLimit(t *testing.T) {
	st := containersTestStart(t, withConsole(nil, func(c *gateway.ShellsConfig) { c.MaxSessionsPerUser = 1 }))
	first := openConsoleWS(t, st.c, st.pve1, 101)
	first.send("echo one-$((1+1))\r")
	first.until("one-2")
	second := openConsoleWS(t, st.c, st.pve1, 100)
	second.until("")
	if second.end["reason"] != "session limit" || !strings.Contains(fmt.Sprint(second.end["message"]), "1 open sessions") {
		t.Errorf("second console: %v", second.end)
	}
	first.send("exit\r")
	first.until("")
	third := openConsoleWS(t, st.c, st.pve1, 100)
	third.send("echo three-$((1+2))\r")
	third.until("three-3")
}

// TestConsoleIdleTimeout: a console nobody types into ends with the
// gateway's idle timeout, and says so.
func TestConsoleIdleTimeout(t *testing.T) {
	st := containersTestStart(t, withConsole(nil, func(c *gateway.ShellsConfig) { c.IdleTimeout = 200 * time.Millisecond }))
	cc := openConsoleWS(t, st.c, st.pve1, 101)
	cc.until("")
	if cc.end["reason"] != "idle timeout" || !strings.HasPrefix(fmt.Sprint(cc.end["message"]), "no activity for 200ms") {
		t.Errorf("end message %v", cc.end)
	}
	if _, ok := cc.end["status"]; !ok {
		t.Errorf("no status in %v", cc.end)
	}
	var closeErr websocket.CloseError
	if _, _, err := cc.ws.Read(t.Context()); !errors.As(err, &closeErr) || closeErr.Code != websocket.StatusNormalClosure {
		t.Errorf("after the end: %v", err)
	}
}
