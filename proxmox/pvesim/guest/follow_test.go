package guest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once
// (simtest.Buffer cannot serve here: simtest starts pvesim, which imports
// this package).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJournalctlFollow(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, "apt-get install -y nginx >/dev/null")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		code, _ := g.Exec(ctx, []string{"journalctl", "-f", "-u", "nginx", "-o", "cat"}, nil, Stdio{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}, nil)
		done <- code
	}()
	waitFor := func(what string) {
		t.Helper()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !strings.Contains(out.String(), what) {
			select {
			case <-tick.C:
			case <-t.Context().Done():
				t.Fatalf("journalctl -f never printed %q; got %q", what, out.String())
			}
		}
	}
	waitFor("Started nginx.service")
	mustSh(t, g, "systemctl restart nginx")
	waitFor("Stopped nginx.service")
	before := strings.Count(out.String(), "Started nginx.service")
	mustSh(t, g, "systemctl stop nginx")
	waitFor("Stopping nginx.service")
	if got := strings.Count(out.String(), "Started nginx.service"); got != before {
		t.Errorf("lines printed twice: %q", out.String())
	}
	cancel(ErrInterrupt)
	if code := <-done; code != 130 {
		t.Errorf("interrupted journalctl -f exited %d", code)
	}
}
