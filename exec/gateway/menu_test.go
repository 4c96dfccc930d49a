package gateway

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestWriteGuestTable(t *testing.T) {
	guests := []Guest{
		{VMID: 105, Name: "web", Node: "pve1", Status: "running"},
		{VMID: 1234, Name: "evil\x1b[2J", Node: "pve2", Status: "stopped"},
	}
	var b bytes.Buffer
	writeGuestTable(&b, guests, true, "\r\n")
	want := "#  VMID  NAME     NODE  STATUS\r\n" +
		"1  105   web      pve1  running\r\n" +
		"2  1234  evil[2J  pve2  stopped\r\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	writeGuestTable(&b, guests[:1], false, "\n")
	if want := "VMID  NAME  NODE  STATUS\n105   web   pve1  running\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		name, in   string
		pty        bool
		line, rest string
		echo       string
		err        error
	}{
		{"pty enter", "105\rls\r", true, "105", "ls\r", "105\r\n", nil},
		{"pty backspace", "1x\x7f05\r", true, "105", "", "1x\b \b05\r\n", nil},
		{"pty ctrl-c", "10\x03", true, "", "", "10", errAborted},
		{"pty ctrl-d", "\x04", true, "", "", "", errAborted},
		{"no pty", "web\nrest", false, "web", "rest", "", nil},
		{"crlf", "web\r\nx", false, "web", "x", "", nil},
		{"eof with text", "web", false, "web", "", "", nil},
		{"eof empty", "", false, "", "", "", errAborted},
		{"control bytes dropped", "1\x1b0\x005\n", false, "105", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var echo bytes.Buffer
			line, rest, err := readLine(strings.NewReader(tt.in), &echo, tt.pty)
			if !errors.Is(err, tt.err) || line != tt.line || string(rest) != tt.rest || echo.String() != tt.echo {
				t.Errorf("got %q, %q, echo %q, %v; want %q, %q, echo %q, %v", line, rest, echo.String(), err, tt.line, tt.rest, tt.echo, tt.err)
			}
		})
	}
	long := strings.Repeat("9", 200) + "\n"
	if line, _, _ := readLine(strings.NewReader(long), &bytes.Buffer{}, false); len(line) != maxLine {
		t.Errorf("line length %d, want cap %d", len(line), maxLine)
	}
}

func TestPick(t *testing.T) {
	guests := []Guest{{VMID: 105, Name: "web"}, {VMID: 106, Name: "db"}}
	for answer, want := range map[string]int{"1": 105, "2": 106, " 2 ": 106, "106": 106, "web": 105} {
		g, err := pick(guests, answer)
		if err != nil || g.VMID != want {
			t.Errorf("pick(%q) = %d, %v; want %d", answer, g.VMID, err, want)
		}
	}
	for _, answer := range []string{"3", "0", "-1", "999"} {
		if _, err := pick(guests, answer); err == nil {
			t.Errorf("pick(%q) succeeded", answer)
		}
	}
}
