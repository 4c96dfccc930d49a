package exec

import (
	"bytes"
	"errors"
	osexec "os/exec"
	"slices"
	"strings"
	"testing"
)

// shellArgv runs `printf '%s\0' ARGS` through a real /bin/sh with ARGS
// quoted by QuoteArgs and returns the words the shell saw.
func shellArgv(t testing.TB, argv []string) []string {
	t.Helper()
	script := `printf '%s\0' ` + QuoteArgs(argv)
	out, err := osexec.Command("/bin/sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1]
}

func TestQuoteArgs(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"uptime"}, `'uptime'`},
		{[]string{"sh", "-c", "echo $HOME"}, `'sh' '-c' 'echo $HOME'`},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{""}, `''`},
	}
	for _, tt := range tests {
		if got := QuoteArgs(tt.argv); got != tt.want {
			t.Errorf("QuoteArgs(%q) = %s, want %s", tt.argv, got, tt.want)
		}
		if got := shellArgv(t, tt.argv); !slices.Equal(got, tt.argv) {
			t.Errorf("sh saw %q, want %q", got, tt.argv)
		}
	}
}

// FuzzQuoteArgs checks that any argv survives a real shell unchanged: no
// quoting, globbing, expansion or word splitting leaks through.
func FuzzQuoteArgs(f *testing.F) {
	for _, s := range []string{"", "a b", "'", `'\''`, "$(id)", "`id`", "a;b|c&d", "*", "~", "\n", "\\", `"`, "-- -x", "${IFS}", "!"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.ContainsRune(a+b, 0) {
			return // NUL cannot travel in argv; pctCommand refuses it
		}
		argv := []string{a, b}
		if got := shellArgv(t, argv); !slices.Equal(got, argv) {
			t.Fatalf("sh saw %q, want %q (quoted %s)", got, argv, QuoteArgs(argv))
		}
	})
}

func TestParseVMID(t *testing.T) {
	for _, ok := range []struct {
		in   string
		want int
	}{{"100", 100}, {"105", 105}, {"999999999", 999999999}} {
		got, err := ParseVMID(ok.in)
		if err != nil || got != ok.want {
			t.Errorf("ParseVMID(%q) = %d, %v", ok.in, got, err)
		}
	}
	for _, bad := range []string{"", "0105", "+105", "105;id", "105 ", " 105", "1e3", "-105", "99", "1000000000", "١٠٥", "10a", "0x1f"} {
		if _, err := ParseVMID(bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("ParseVMID(%q) err = %v, want ErrBadArgument", bad, err)
		}
	}
}

func TestPctCommand(t *testing.T) {
	got, err := pctCommand(105, false, []string{"/bin/sh", "-c", "echo 'hi'; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `pct exec 105 -- '/bin/sh' '-c' 'echo '\''hi'\''; exit 3'`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, _ := pctCommand(105, true, nil); got != "pct enter 105" {
		t.Errorf("enter: got %q", got)
	}
	for name, tc := range map[string]struct {
		vmid  int
		enter bool
		argv  []string
	}{
		"low vmid":      {99, false, []string{"x"}},
		"high vmid":     {1000000000, false, []string{"x"}},
		"no command":    {105, false, nil},
		"NUL":           {105, false, []string{"a\x00b"}},
		"enter+command": {105, true, []string{"x"}},
	} {
		if _, err := pctCommand(tc.vmid, tc.enter, tc.argv); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s: err = %v, want ErrBadArgument", name, err)
		}
	}
	// The command as the host's shell sees it: pct, then our words intact.
	cmd, _ := pctCommand(105, false, []string{"/bin/sh", "-c", "a'b $x"})
	out, err := osexec.Command("/bin/sh", "-c", "pct() { printf '%s\\0' \"$@\"; }; "+cmd).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "exec\x00105\x00--\x00/bin/sh\x00-c\x00a'b $x\x00"; !bytes.Equal(out, []byte(want)) {
		t.Errorf("host shell saw %q, want %q", out, want)
	}
}
