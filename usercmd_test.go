package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/store"
)

// userRun runs `corral user ...` on dir and returns its output and error.
func userRun(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"user"}, args...), env(map[string]string{"CORRAL_DATA": dir}), strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// userScript is a sequence of user commands, with what each printed or
// the error it ended with.
var userScript = []struct {
	stdin string
	args  []string
}{
	{"alice-password-1\n", []string{"add", "alice"}},
	{"bob-password-1\n", []string{"add", "bob"}},
	{"", []string{"add", "carol", "--invite", "--url", "http://corral.test:8080/"}},
	{"dave-password-1\n", []string{"add", "dave", "--admin"}},
	{"another-password\n", []string{"add", "Alice"}},
	{"short\n", []string{"add", "erin"}},
	{"", []string{"list"}},
	{"new-password-2\n", []string{"passwd", "bob"}},
	{"new-password-2\n", []string{"passwd", "nobody"}},
	{"", []string{"disable", "bob"}},
	{"", []string{"disable", "dave"}},
	{"", []string{"disable", "alice"}}, // the last enabled administrator
	{"", []string{"enable", "dave"}},
	{"", []string{"list"}},
}

var inviteToken = regexp.MustCompile(`/invite/[A-Za-z0-9_-]{43}`)

// runScript runs userScript on dir and returns the transcript, with invite
// tokens (random) masked.
func runScript(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, step := range userScript {
		out, err := userRun(t, dir, step.stdin, step.args...)
		b.WriteString("$ corral user " + strings.Join(step.args, " ") + "\n" + out)
		if err != nil {
			b.WriteString("error: " + err.Error() + "\n")
		}
	}
	return inviteToken.ReplaceAllString(b.String(), "/invite/TOKEN")
}

// TestUserCommandsSameBothWays: the user commands print the same, word for
// word, whether a server runs (they go through the admin socket) or not
// (they open the database).
func TestUserCommandsSameBothWays(t *testing.T) {
	offline := runScript(t, t.TempDir())

	dir := t.TempDir()
	_, stop := startServe(t, dir)
	defer stop()
	served := runScript(t, dir)

	if served != offline {
		t.Fatalf("output differs.\nwith a server:\n%s\nwithout:\n%s", served, offline)
	}
	for _, want := range []string{
		"created user alice (administrator)", "created user bob (member)", "created user dave (administrator)",
		"created user carol (member); send them this link", "http://corral.test:8080/invite/TOKEN",
		"username \"Alice\" is taken", "password must be at least 8 characters",
		"password changed for bob; all of their sessions were signed out",
		"no account named \"nobody\"", "disabled bob;", "disabled dave;",
		"alice is the only enabled administrator", "enabled dave;",
		"carol  member         invited", "bob    member         disabled",
	} {
		if !strings.Contains(served, want) {
			t.Errorf("transcript lacks %q:\n%s", want, served)
		}
	}
}

// TestUserCommandsWhileServing: on a running Corral (issue 16's "data
// directory is in use"), the commands reach the server through a 0600
// socket; an invite link made on the command line works in the browser;
// disabling cuts the account's SSH connection; the socket goes with the
// server.
func TestUserCommandsWhileServing(t *testing.T) {
	dir := t.TempDir()
	l, logs, stop := startServeConfig(t, serveConfig(t, []string{"--addr", "127.0.0.1:0", "--ssh-addr", "127.0.0.1:0", "--data", dir}, nil))
	sock := filepath.Join(dir, "admin.sock")
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}
	if out, err := userRun(t, dir, "alice-password-1\n", "add", "alice"); err != nil || out != "created user alice (administrator)\n" {
		t.Fatalf("user add while serving: %q %v", out, err)
	}
	out, err := userRun(t, dir, "", "add", "bob", "--invite", "--url", "http://"+l.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	link := inviteToken.FindString(out)
	res, err := http.Get("http://" + l.HTTP + link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "invited as <strong data-testid=\"invite-username\">bob</strong>") {
		t.Fatalf("the printed link %s: %d", link, res.StatusCode)
	}

	// alice in the SSH gateway; disabling her... is refused (last
	// administrator); a second administrator lets it through and her
	// connection ends.
	c, err := ssh.Dial("tcp", l.SSH, &ssh.ClientConfig{User: "alice", Auth: []ssh.AuthMethod{ssh.Password("alice-password-1")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: time.Minute})
	if err != nil {
		t.Fatalf("alice over ssh: %v", err)
	}
	defer c.Close()
	if _, err := userRun(t, dir, "", "disable", "alice"); err == nil {
		t.Fatal("disabled the only administrator")
	}
	if _, err := userRun(t, dir, "dave-password-1\n", "add", "dave", "--admin"); err != nil {
		t.Fatal(err)
	}
	if out, err := userRun(t, dir, "", "disable", "alice"); err != nil || !strings.HasPrefix(out, "disabled alice") {
		t.Fatalf("disable alice: %q %v", out, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("alice's SSH connection outlived `corral user disable`")
	}
	if !strings.Contains(logs.String(), "user command") {
		t.Errorf("the server did not log the commands:\n%s", logs.String())
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the socket outlived the server: %v", err)
	}
	// Without a server the same commands open the database.
	if out, err := userRun(t, dir, "", "enable", "alice"); err != nil || !strings.HasPrefix(out, "enabled alice") {
		t.Fatalf("enable without a server: %q %v", out, err)
	}
}

// TestUserCommandsStaleSocket: a socket a crashed server left behind is
// not mistaken for a running one, and the next server replaces it.
func TestUserCommandsStaleSocket(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "unused"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := listenStale(filepath.Join(dir, "admin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // leaves the file, like a crash
	if out, err := userRun(t, dir, "alice-password-1\n", "add", "alice"); err != nil || !strings.HasPrefix(out, "created user alice") {
		t.Fatalf("user add beside a stale socket: %q %v", out, err)
	}
	_, stop := startServe(t, dir)
	defer stop()
	if out, err := userRun(t, dir, "", "list"); err != nil || !strings.Contains(out, "alice") {
		t.Fatalf("user list after a restart: %q %v", out, err)
	}
}

// TestAuditRetentionPurge: the scheduler's first run drops audit entries
// older than --audit-retention and keeps the rest.
func TestAuditRetentionPurge(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig(t, []string{"--addr", "127.0.0.1:0", "--ssh-addr", "", "--data", dir, "--audit-retention", "240h"}, nil)
	db, err := openStore(cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, age := range []time.Duration{300 * time.Hour, 241 * time.Hour, 239 * time.Hour, time.Hour} {
		if err := db.Audit(context.Background(), store.AuditEntry{Time: now.Add(-age), Kind: "login.ok", Target: age.String()}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	_, logs, stop := startServeConfig(t, cfg)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(logs.String(), "purged old audit entries") {
		if time.Now().After(deadline) {
			t.Fatalf("no purge within a minute:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	db, err = openStore(cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.AuditLog(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range page.Entries {
		left = append(left, e.Target)
	}
	if strings.Join(left, " ") != "1h0m0s 239h0m0s" {
		t.Fatalf("entries left: %v", left)
	}
}

// listenStale opens a unix socket whose file stays when it is closed.
func listenStale(path string) (*net.UnixListener, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false)
	return l, nil
}
