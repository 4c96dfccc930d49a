package handlers_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"corral/store"
)

// jobsTestSSEEvent is one server-sent event.
type jobsTestSSEEvent struct {
	ID, Name, Data string
}

// jobsTestStream opens a job's event stream with the client's cookies and
// delivers its events on a channel, closed at the end of the stream.
func jobsTestStream(t *testing.T, c *client, jobID string, lastID string) <-chan jobsTestSSEEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.srv.URL+"/jobs/"+jobID+"/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan jobsTestSSEEvent, 1024)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev jobsTestSSEEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					ev.Data = strings.Join(data, "\n")
					ch <- ev
				}
				ev, data = jobsTestSSEEvent{}, nil
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return ch
}

// TestJobs_SSEHistoryThenLive connects mid-job: the stream sends the
// history, then live entries, numbered 1..N without a gap or a duplicate,
// and ends with "done". A reconnect with Last-Event-ID resumes after it.
func TestJobs_SSEHistoryThenLive(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 190
	plan := jobsTestPlan(env.user, env.node, vmid, "streamed")
	plan.Scripts = []store.Script{{Name: "wait.sh", Content: "for i in 1 2 3 4 5; do echo before-$i; done\n" +
		"while [ ! -f /tmp/go ]; do sleep 0.02; done\nfor i in 1 2 3 4 5; do echo after-$i; done\n"}}
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the script is blocked after its first lines are saved.
	jobsTestWait(t, env.runner, env.user.ID, jobID, "blocked in the script", func(j store.Job) bool {
		log, _ := env.runner.Log(ctx, env.user.ID, jobID, 0)
		return len(log) > 0 && log[len(log)-1].Text == "before-5"
	})

	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	page := c.get("/jobs/" + jobID)
	if page.Doc.Find(`[data-testid="job"][sse-connect^="/jobs/`+jobID+`/events?last_event_id="][sse-close="done"]`).Length() != 1 {
		t.Fatal("a running job's page does not follow its stream")
	}
	stream := jobsTestStream(t, c, jobID, "")
	var ids []uint64
	var names []string
	released := false
	for ev := range stream {
		names = append(names, ev.Name)
		if ev.Name == "log" {
			id, err := strconv.ParseUint(ev.ID, 10, 64)
			if err != nil {
				t.Fatalf("log event id %q", ev.ID)
			}
			ids = append(ids, id)
			if !strings.Contains(ev.Data, `class="logline`) {
				t.Fatalf("log data %q", ev.Data)
			}
			// History is complete once before-5 arrived; let the job go on.
			if strings.Contains(ev.Data, "before-5") && !released {
				released = true
				jobsTestWrite(t, env.sim, "pve1", vmid, "tmp/go", "")
			}
		}
		if ev.Name == "status" && !strings.Contains(ev.Data, `data-testid="job-status"`) {
			t.Fatalf("status data %q", ev.Data)
		}
	}
	if len(names) == 0 || names[len(names)-1] != "done" {
		t.Fatalf("stream did not end with done: %v", names)
	}
	log, _ := env.runner.Log(ctx, env.user.ID, jobID, 0)
	if len(ids) != len(log) {
		t.Fatalf("stream sent %d entries, the log has %d", len(ids), len(log))
	}
	for i, id := range ids {
		if id != uint64(i+1) {
			t.Fatalf("entry %d has id %d: gap or duplicate in %v", i, id, ids)
		}
	}
	if !log[len(log)-1].Terminal() || log[len(log)-1].Kind != store.EventReady {
		t.Fatalf("last entry %+v", log[len(log)-1])
	}

	// Reconnect after entry 4: entries 5..N, then done.
	var again []string
	for ev := range jobsTestStream(t, c, jobID, "4") {
		if ev.Name == "log" {
			again = append(again, ev.ID)
		}
		if ev.Name == "done" {
			again = append(again, "done")
		}
	}
	var want []string
	for i := 5; i <= len(log); i++ {
		want = append(want, fmt.Sprint(i))
	}
	want = append(want, "done")
	if strings.Join(again, ",") != strings.Join(want, ",") {
		t.Fatalf("after reconnect got %v, want %v", again, want)
	}
}
