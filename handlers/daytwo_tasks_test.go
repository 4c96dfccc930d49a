package handlers_test

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
)

// TestDayTwoTaskStream follows a backup that takes a while: the task page
// opens the stream, which sends each log line once with its number, then
// the final state and "done"; a reconnect resumes after the last line seen.
func TestDayTwoTaskStream(t *testing.T) {
	s := newTestServer(t, func(d *handlers.Deps) {
		d.Proxmox = clusters.NewClients(slog.New(slog.DiscardHandler), proxmox.WithPollInterval(20*time.Millisecond))
	})
	// Long enough that the task still runs when its page loads on a busy
	// machine; the stream then follows it to its end.
	sim := startSimWith(t, func(o *pvesim.Options) { o.TaskDuration = 4 * time.Second })
	u := s.withUser(t, "alice", "correct horse")
	n := s.addSimNode(t, sim, u.ID, "pve1", "pve1")
	c := s.client(t)
	c.login("alice", "correct horse")
	base := "/containers/" + n.ID + "/101"

	res := c.post(base+"/backups", url.Values{"storage": {"local"}, "mode": {"snapshot"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("backup: %d\n%s", res.StatusCode, res.Body)
	}
	loc := res.Header.Get("Location")
	page := c.get(loc)
	expectStatus(t, page, http.StatusOK)
	connect, ok := page.Doc.Find(`#task`).Attr("sse-connect")
	if !ok {
		t.Fatalf("a running task's page does not follow it:\n%s", page.Body)
	}
	if state, _ := page.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "running" {
		t.Fatalf("state %q", state)
	}

	events := taskStream(t, c, connect, "")
	var last int
	var lines []string
	for _, ev := range events {
		switch ev.name {
		case "log":
			n, err := strconv.Atoi(ev.id)
			if err != nil || n <= last {
				t.Fatalf("log event id %q after %d", ev.id, last)
			}
			last = n
			lines = append(lines, ev.data)
		}
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "INFO: Starting Backup of VM 101") || !strings.Contains(all, "INFO: Backup job finished successfully") {
		t.Errorf("streamed log:\n%s", all)
	}
	if n := len(events); n < 2 || events[n-2].name != "status" || !strings.Contains(events[n-2].data, `data-state="ok"`) || events[n-1].name != "done" {
		t.Fatalf("the stream did not end with status and done: %+v", events[max(0, n-2):])
	}

	// Resuming after line 3 sends only what came after it.
	again := taskStream(t, c, connect, "3")
	for _, ev := range again {
		if ev.name == "log" {
			if n, _ := strconv.Atoi(ev.id); n <= 3 {
				t.Fatalf("resumed stream repeated line %d", n)
			}
		}
	}

	t.Run("OnlyThisContainersTasks", func(t *testing.T) {
		upid := strings.TrimPrefix(loc, base+"/tasks/")
		expectStatus(t, c.get("/containers/"+n.ID+"/100/tasks/"+upid), http.StatusNotFound)
		expectStatus(t, c.get("/containers/"+n.ID+"/100/tasks/"+upid+"/events"), http.StatusNotFound)
		other := strings.Replace(upid, ":pve1:", ":pve2:", 1)
		expectStatus(t, c.get(base+"/tasks/"+other), http.StatusNotFound)
		expectStatus(t, c.get(base+"/tasks/not-a-upid"), http.StatusNotFound)
		// Well formed, this container's, but no task of Proxmox's.
		forged := "UPID:pve1:00000001:00000001:00000001:vzdump:101:corral@pve!corral:"
		expectStatus(t, c.get(base+"/tasks/"+forged), http.StatusNotFound)
		expectStatus(t, c.get(base+"/tasks/"+forged+"/events"), http.StatusNotFound)
		s.withUser(t, "bob", "bob-password-1")
		bc := s.client(t)
		bc.login("bob", "bob-password-1")
		expectStatus(t, bc.get(loc), http.StatusNotFound)
	})
}

type sseEvent struct{ name, id, data string }

// taskStream reads a task's event stream to its end.
func taskStream(t *testing.T, c *client, path, lastID string) []sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.srv.URL+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
		q := req.URL.Query()
		q.Del("last_event_id")
		req.URL.RawQuery = q.Encode()
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, ct)
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" {
				out = append(out, cur)
				if cur.name == "done" {
					return out
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			if cur.data != "" {
				cur.data += "\n"
			}
			cur.data += strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("the stream ended without done: %v", sc.Err())
	return nil
}

// TestDayTwoOneActionAtATime: while a backup of a container runs, Corral
// refuses every other action on it (a snapshot, a settings change, a stop,
// another backup) in plain words before anything reaches Proxmox, and
// another container stays free.
func TestDayTwoOneActionAtATime(t *testing.T) {
	s := newTestServer(t, func(d *handlers.Deps) {
		d.Proxmox = clusters.NewClients(slog.New(slog.DiscardHandler), proxmox.WithPollInterval(20*time.Millisecond))
	})
	// The backup runs until the test ends: Corral holds the container's
	// lock for as long as it follows the task.
	sim := startSimWith(t, func(o *pvesim.Options) { o.TaskDuration = time.Hour })
	u := s.withUser(t, "alice", "correct horse")
	n := s.addSimNode(t, sim, u.ID, "pve1", "pve1")
	c := s.client(t)
	c.login("alice", "correct horse")
	base := "/containers/" + n.ID + "/101"
	settings := c.get(base + "/settings")
	expectStatus(t, settings, http.StatusOK)
	form := formOf(t, settings, `[data-testid="settings-form"]`, "apply")

	res := c.post(base+"/backups", url.Values{"storage": {"local"}, "mode": {"snapshot"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/tasks/") {
		t.Fatalf("backup: %d\n%s", res.StatusCode, res.Body)
	}
	const busy = "Another action (backup) is running on CT 101"
	form.Set("memory", "512")
	for what, res := range map[string]*response{
		"snapshot": c.post(base+"/snapshots", url.Values{"snap_name": {"meanwhile"}}),
		"settings": c.post(base+"/settings", form),
		"stop":     c.post(base+"/stop", nil),
		"backup":   c.post(base+"/backups", url.Values{"storage": {"local"}, "mode": {"stop"}}, "HX-Request", "true"),
	} {
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, busy) {
			t.Errorf("%s during the backup: %d\n%s", what, res.StatusCode, res.Body)
		}
	}
	api, err := proxmox.New(clusters.Config(n))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if cfg, err := api.LXCConfig(t.Context(), "pve1", 101); err != nil || cfg.Memory() == 512 {
		t.Errorf("a refused change reached Proxmox: memory %d %v", cfg.Memory(), err)
	}
	if snaps, err := api.Snapshots(t.Context(), "pve1", 101); err != nil || len(snaps) != 1 {
		t.Errorf("a refused snapshot reached Proxmox: %+v %v", snaps, err)
	}

	// CT 100 is not held by 101's backup.
	res = c.post("/containers/"+n.ID+"/100/snapshots", url.Values{"snap_name": {"meanwhile"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("a snapshot of another container: %d\n%s", res.StatusCode, res.Body)
	}
}
