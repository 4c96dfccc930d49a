package gateway

import (
	"errors"
	"testing"
)

func TestSplitLogin(t *testing.T) {
	for _, tt := range []struct{ in, user, target string }{
		{"alice", "alice", ""},
		{"alice+105", "alice", "105"},
		{"alice+web", "alice", "web"},
		{"a+b+105", "a+b", "105"},
	} {
		u, tg := splitLogin(tt.in)
		if u != tt.user || tg != tt.target {
			t.Errorf("splitLogin(%q) = %q, %q", tt.in, u, tg)
		}
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		login, raw string
		want       request
	}{
		{"", "", request{kind: reqMenu}},
		{"", "  ", request{kind: reqMenu}},
		{"", "ls", request{kind: reqList}},
		{"", "105", request{kind: reqShell, target: "105"}},
		{"", "web", request{kind: reqShell, target: "web"}},
		{"", "105 --", request{kind: reqShell, target: "105"}},
		{"", "105 -- uptime", request{kind: reqExec, target: "105", command: "uptime"}},
		{"", "105 uptime -a", request{kind: reqExec, target: "105", command: "uptime -a"}},
		{"", "105\t--\tsh -c 'exit 3'", request{kind: reqExec, target: "105", command: "sh -c 'exit 3'"}},
		{"", "105 -- --help", request{kind: reqExec, target: "105", command: "--help"}},
		{"", "105 --x", request{kind: reqExec, target: "105", command: "--x"}},
		// A target in the user name wins; the whole command is the user's.
		{"105", "", request{kind: reqShell, target: "105"}},
		{"105", "106", request{kind: reqExec, target: "105", command: "106"}},
		{"web", "ls", request{kind: reqExec, target: "web", command: "ls"}},
	}
	for _, tt := range tests {
		got, err := parseRequest(tt.login, tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("parseRequest(%q, %q) = %+v, %v; want %+v", tt.login, tt.raw, got, err, tt.want)
		}
	}
	for _, raw := range []string{"105 -- a\x00b", string(make([]byte, maxCommand+1))} {
		if _, err := parseRequest("", raw); !errors.Is(err, errBadCommand) {
			t.Errorf("parseRequest(%.20q) err = %v", raw, err)
		}
	}
}

func TestResolve(t *testing.T) {
	guests := []Guest{
		{VMID: 105, Name: "web"}, {VMID: 106, Name: "db"}, {VMID: 107, Name: "dup"}, {VMID: 108, Name: "dup"},
	}
	for target, want := range map[string]int{"105": 105, "web": 105, "WEB": 105, "106": 106, "db": 106} {
		g, err := resolve(guests, target)
		if err != nil || g.VMID != want {
			t.Errorf("resolve(%q) = %d, %v; want %d", target, g.VMID, err, want)
		}
	}
	for target, want := range map[string]error{
		"999": errNoSuchContainer, "0105": errNoSuchContainer, "105;id": errNoSuchContainer,
		"nope": errNoSuchContainer, "": errNoSuchContainer, "dup": errAmbiguous,
	} {
		if _, err := resolve(guests, target); err != want {
			t.Errorf("resolve(%q) err = %v, want %v", target, err, want)
		}
	}
}
