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
	waitCount := func(what string, n int) {
		t.Helper()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for strings.Count(out.String(), what) < n {
			select {
			case <-tick.C:
			case <-t.Context().Done():
				t.Fatalf("journalctl -f never printed %q %d times; got %q", what, n, out.String())
			}
		}
	}
	waitFor := func(what string) { t.Helper(); waitCount(what, 1) }
	waitFor("Started nginx.service")
	mustSh(t, g, "systemctl restart nginx")
	// The restart's own start line may follow its stop line a moment later.
	waitFor("Stopped nginx.service")
	waitCount("Started nginx.service", 2)
	before := strings.Count(out.String(), "Started nginx.service")
	mustSh(t, g, "systemctl stop nginx")
	waitCount("Stopping nginx.service", 2) // the restart printed the first
	if got := strings.Count(out.String(), "Started nginx.service"); got != before {
		t.Errorf("lines printed twice: %q", out.String())
	}
	cancel(ErrInterrupt)
	if code := <-done; code != 130 {
		t.Errorf("interrupted journalctl -f exited %d", code)
	}
}
