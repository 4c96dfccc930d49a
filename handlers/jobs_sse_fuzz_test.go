package handlers

import (
	"context"
	"strings"
	"testing"
)

// sseEvent is one event as a client following the SSE specification
// (WHATWG HTML, "server-sent events") dispatches it.
type sseEvent struct {
	typ, id, data string
}

// parseSSE reads a stream the way a browser does: lines end at CRLF, LF or
// a lone CR; a blank line dispatches the event.
func parseSSE(stream string) []sseEvent {
	var out []sseEvent
	var ev sseEvent
	var data []string
	hasData := false
	for len(stream) > 0 {
		i := strings.IndexAny(stream, "\r\n")
		if i < 0 {
			break // an unterminated last line is discarded
		}
		line := stream[:i]
		if strings.HasPrefix(stream[i:], "\r\n") {
			i++
		}
		stream = stream[i+1:]
		if line == "" {
			if hasData {
				ev.data = strings.Join(data, "\n")
				out = append(out, ev)
			}
			ev, data, hasData = sseEvent{}, nil, false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.typ = value
		case "data":
			data, hasData = append(data, value), true
		case "id":
			if !strings.Contains(value, "\x00") {
				ev.id = value
			}
		}
	}
	return out
}

func writeSSE(name, id, data string) string {
	var b strings.Builder
	s := &sseStream{ctx: context.Background(), w: &b, flush: func() {}}
	s.event(name, id, data)
	return b.String()
}

// TestSSEEvent_CarriageReturnForgesNothing is the attack of issue 13: a
// credential key holding a CR inside a job's log line.
func TestSSEEvent_CarriageReturnForgesNothing(t *testing.T) {
	data := `<li>Discovered service: web [credentials: KEY` + "\r\r" + `event: status` + "\r" + `data: <b>forged</b>]</li>`
	evs := parseSSE(writeSSE("log", "42", data))
	if len(evs) != 1 || evs[0].typ != "log" || evs[0].id != "42" {
		t.Fatalf("one log event became %+v", evs)
	}
	if want := strings.ReplaceAll(data, "\r", "\n"); evs[0].data != want {
		t.Fatalf("data %q, want %q", evs[0].data, want)
	}
}

// FuzzSSEEvent: whatever the name, id and data, the writer produces one
// event of that name and id whose data is the input with its line ends
// made LF, and no field line holds a raw CR.
func FuzzSSEEvent(f *testing.F) {
	for _, seed := range [][3]string{
		{"log", "1", "<li>plain</li>"},
		{"log", "2", "a\nb\r\nc\rd"},
		{"log", "3", "KEY\r\revent: status\rdata: forged"},
		{"log", "4", "\n\nevent: done\n\n"},
		{"status", "", "<div>\r\n</div>\r"},
		{"log\revent: status", "5\ndata: x", "y"},
		{"done", "6\x00", ""},
		{"log", "", "\r\n\r\n"},
		{"log", "7", "\x00\xff\u2028\u0085"},
		{"\xb0", "0", "0"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, name, id, data string) {
		out := writeSSE(name, id, data)
		body := strings.TrimSuffix(out, "\n\n")
		for _, line := range strings.Split(body, "\n") {
			if strings.Contains(line, "\r") || line == "" {
				t.Fatalf("field line %q in %q", line, out)
			}
			if !strings.HasPrefix(line, "id: ") && !strings.HasPrefix(line, "event: ") && !strings.HasPrefix(line, "data: ") {
				t.Fatalf("stray line %q in %q", line, out)
			}
		}
		evs := parseSSE(out)
		if len(evs) != 1 {
			t.Fatalf("%d events from %q", len(evs), out)
		}
		clean := func(s string) string {
			return strings.NewReplacer("\r", "", "\n", "", "\x00", "").Replace(s)
		}
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(data)
		if evs[0].typ != clean(name) || evs[0].id != clean(id) || evs[0].data != want {
			t.Fatalf("got %+v, want type %q id %q data %q", evs[0], clean(name), clean(id), want)
		}
	})
}
