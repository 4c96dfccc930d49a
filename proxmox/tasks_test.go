package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

// fakeTask is a task that runs for a few status polls, printing two log
// lines per poll, then stops with exit.
type fakeTask struct {
	mu     sync.Mutex
	polls  int
	lines  []string
	exit   string
	runFor int // polls that report "running"; -1 = forever
}

func (ft *fakeTask) install(f *fakePVE, node, upid string) {
	base := "/nodes/" + node + "/tasks/" + upid
	f.handle("GET", base+"/status", func(w http.ResponseWriter, _ *http.Request) {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		ft.polls++
		st := map[string]any{"upid": upid, "node": node, "pid": 1223629, "pstart": 27440068, "starttime": 1730212258,
			"type": "vzcreate", "id": "105", "user": "corral@pve", "tokenid": "corral", "status": "running"}
		if ft.runFor >= 0 && ft.polls > ft.runFor {
			st["status"], st["exitstatus"] = "stopped", ft.exit
		}
		writeJSON(w, map[string]any{"data": st})
	})
	f.handle("GET", base+"/log", func(w http.ResponseWriter, r *http.Request) {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		visible := min(2*ft.polls, len(ft.lines))
		if ft.runFor >= 0 && ft.polls > ft.runFor {
			visible = len(ft.lines)
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		out := []map[string]any{}
		for i := start; i < visible && len(out) < limit; i++ {
			out = append(out, map[string]any{"n": i + 1, "t": ft.lines[i]})
		}
		if visible == 0 {
			out = []map[string]any{{"n": 1, "t": "no content"}}
		}
		writeJSON(w, map[string]any{"data": out, "total": max(visible, 1)})
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func TestClient_WaitTask(t *testing.T) {
	lines := []string{"extracting archive", "Detected container architecture: amd64", "Creating SSH host key", "done"}

	run := func(t *testing.T, ft *fakeTask, ctx context.Context) ([]string, error) {
		f := newFakePVE(t)
		ft.install(f, "pve", testUPID)
		var got []string
		err := f.client().WaitTask(ctx, "pve", testUPID, func(l string) { got = append(got, l) })
		return got, err
	}

	t.Run("OK", func(t *testing.T) {
		all := append(append([]string{}, lines...), "TASK OK")
		got, err := run(t, &fakeTask{lines: all, exit: "OK", runFor: 3}, t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("log lines %q, want each of %q once", got, all)
		}
	})

	t.Run("Warnings", func(t *testing.T) {
		all := append(append([]string{}, lines...), "TASK WARNINGS: 1")
		if _, err := run(t, &fakeTask{lines: all, exit: "WARNINGS: 1", runFor: 1}, t.Context()); err != nil {
			t.Fatalf("a task with warnings failed: %v", err)
		}
	})

	t.Run("Failed", func(t *testing.T) {
		exit := "unable to create CT 105 - no space left on device"
		all := append(append([]string{}, lines...), "TASK ERROR: "+exit)
		got, err := run(t, &fakeTask{lines: all, exit: exit, runFor: 2}, t.Context())
		e := wantKind(t, err, ErrTaskFailed, KindTaskFailed)
		if e.ExitStatus != exit || e.UPID != testUPID {
			t.Fatalf("exit status %q upid %q", e.ExitStatus, e.UPID)
		}
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("log lines %q", got)
		}
	})

	t.Run("EmptyLogThenLines", func(t *testing.T) {
		// The first poll sees the "no content" placeholder, which is no line.
		ft := &fakeTask{lines: []string{"TASK OK"}, exit: "OK", runFor: 2}
		f := newFakePVE(t)
		ft.install(f, "pve", testUPID)
		ft.polls = -1 // first log read happens while nothing is visible
		var got []string
		if err := f.client().WaitTask(t.Context(), "pve", testUPID, func(l string) { got = append(got, l) }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []string{"TASK OK"}) {
			t.Fatalf("log lines %q", got)
		}
	})

	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		ft := &fakeTask{lines: lines, runFor: -1}
		f := newFakePVE(t)
		ft.install(f, "pve", testUPID)
		err := f.client().WaitTask(ctx, "pve", testUPID, func(l string) {
			if l == "done" {
				cancel() // the task runs on; we stop waiting
			}
		})
		wantKind(t, err, ErrCanceled, KindCanceled)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cause of %v is not context.Canceled", err)
		}
	})
}

func TestTaskOK(t *testing.T) {
	for exit, want := range map[string]bool{"OK": true, "WARNINGS: 3": true, "": false, "unexpected status": false, "ok": false} {
		if TaskOK(exit) != want {
			t.Errorf("TaskOK(%q) = %v", exit, !want)
		}
	}
}
