package handlers_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec/access"
	"corral/exec/gateway"
	"corral/handlers"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// countingAccounts counts password checks (the slow hash) of the web login
// and the gateway alike.
type countingAccounts struct {
	handlers.Accounts
	keys   access.GatewayAccounts
	checks atomic.Int64
}

func (a *countingAccounts) Authenticate(ctx context.Context, username, password string) (store.User, error) {
	a.checks.Add(1)
	return a.Accounts.Authenticate(ctx, username, password)
}

func (a *countingAccounts) UserForSSHKey(ctx context.Context, username string, key []byte) (store.User, error) {
	return a.keys.UserForSSHKey(ctx, username, key)
}

// throttleEnv is the web login and the SSH gateway sharing one limiter (5
// failures a minute), as serve wires them, with every log line kept.
type throttleEnv struct {
	*testServer
	accounts *countingAccounts
	log      *simtest.Buffer
	gwAddr   string
	hostKey  ssh.PublicKey
}

func newThrottleEnv(t *testing.T) *throttleEnv {
	t.Helper()
	env := &throttleEnv{log: &simtest.Buffer{}}
	logger := slog.New(slog.NewTextHandler(env.log, nil))
	var limiter *access.LoginLimiter
	env.testServer = newTestServer(t, func(d *handlers.Deps) {
		env.accounts = &countingAccounts{Accounts: d.Accounts, keys: d.Accounts.(access.GatewayAccounts)}
		d.Accounts = env.accounts
		d.Logger = logger
		limiter = d.Limiter
	})
	signer := throttleKey(t)
	env.hostKey = signer.PublicKey()
	gw, err := gateway.NewServer(gateway.Config{HostKey: signer, Logger: logger}, gateway.Deps{
		Auth:      access.GatewayAuth{Accounts: env.accounts},
		Directory: emptyDirectory{},
		Audit:     access.GatewayAuditor{Log: env.DB, Keys: env.DB},
		Limiter:   access.GatewayLimiter{L: limiter},
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env.gwAddr = l.Addr().String()
	go gw.Serve(l)
	t.Cleanup(func() { gw.Close() })
	return env
}

type emptyDirectory struct{}

func (emptyDirectory) Containers(context.Context, string) ([]gateway.Guest, error) { return nil, nil }

func throttleKey(t *testing.T) ssh.Signer {
	t.Helper()
	s, _ := simtest.NewKey(t)
	return s
}

func (e *throttleEnv) sshDial(user string, auth ssh.AuthMethod) (*ssh.Client, string, error) {
	var banner strings.Builder
	var mu sync.Mutex
	c, err := ssh.Dial("tcp", e.gwAddr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(e.hostKey),
		BannerCallback: func(m string) error {
			mu.Lock()
			defer mu.Unlock()
			banner.WriteString(m)
			return nil
		},
		Timeout: time.Minute,
	})
	mu.Lock()
	defer mu.Unlock()
	return c, banner.String(), err
}

// TestLoginThrottle_ConcurrentWeb: 200 wrong passwords sent at once from
// one address reach the password hash at most 5 times.
func TestLoginThrottle_ConcurrentWeb(t *testing.T) {
	e := newThrottleEnv(t)
	e.withUser(t, "alice", "correct horse")
	c := e.client(t)
	c.get("/login")
	form := url.Values{"username": {"alice"}, "password": {"guess"}, "_csrf": {c.csrf}}.Encode()

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := c.http.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[0]++
				return
			}
			res.Body.Close()
			statuses[res.StatusCode]++
		})
	}
	close(start)
	wg.Wait()
	if n := e.accounts.checks.Load(); n > 5 {
		t.Fatalf("%d password checks for 200 concurrent attempts, want at most 5 (statuses %v)", n, statuses)
	}
	if statuses[http.StatusUnauthorized] > 5 || statuses[http.StatusTooManyRequests] < 195 {
		t.Fatalf("statuses %v", statuses)
	}
}

// TestLoginThrottle_ConcurrentSSH: the same through the gateway's password
// login, with a real SSH client per attempt.
func TestLoginThrottle_ConcurrentSSH(t *testing.T) {
	e := newThrottleEnv(t)
	e.withUser(t, "alice", "correct horse")
	var wg sync.WaitGroup
	var refused atomic.Int64
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			c, banner, err := e.sshDial("alice", ssh.Password("guess"))
			if err == nil {
				c.Close()
				t.Error("a wrong password logged in")
			}
			if strings.Contains(banner, "too many failed password logins") {
				refused.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := e.accounts.checks.Load(); n > 5 {
		t.Fatalf("%d password checks for 200 concurrent ssh attempts, want at most 5", n)
	}
	if refused.Load() < 195 {
		t.Fatalf("%d refusals with a banner, want at least 195", refused.Load())
	}
}

// TestLoginThrottle_KeyLoginAfterWebFailures (issue 14, bug 7): failed web
// sign-ins lock alice's password out of both doors, never her SSH key; each
// refusal is logged.
func TestLoginThrottle_KeyLoginAfterWebFailures(t *testing.T) {
	e := newThrottleEnv(t)
	alice := e.withUser(t, "alice", "correct horse")
	key := throttleKey(t)
	if _, err := e.DB.AddSSHKey(t.Context(), alice.ID, "laptop", string(ssh.MarshalAuthorizedKey(key.PublicKey()))); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	c.get("/login")
	for range 5 {
		expectStatus(t, c.post("/login", url.Values{"username": {"alice"}, "password": {"guess"}}), http.StatusUnauthorized)
	}
	expectStatus(t, c.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse"}}), http.StatusTooManyRequests)

	// The registered key still logs in and opens a session.
	cl, banner, err := e.sshDial("alice", ssh.PublicKeys(key))
	if err != nil {
		t.Fatalf("key login refused after web password failures: %v (banner %q)", err, banner)
	}
	defer cl.Close()
	sess, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("ls")
	if err != nil {
		t.Fatalf("ls after key login: %v %s", err, out)
	}
	entries, err := e.DB.AuditEntries(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range entries {
		found = found || a.Kind == gateway.EventAuthOK && a.UserID == alice.ID && strings.HasPrefix(a.Detail, "publickey")
	}
	if !found {
		t.Fatal("the key login was not audited")
	}

	// The password is refused over ssh too, with a reason in the banner;
	// each refusal is in the log.
	_, banner, err = e.sshDial("alice", ssh.Password("correct horse"))
	if err == nil || !strings.Contains(banner, "too many failed password logins") {
		t.Fatalf("ssh password during the lockout: %v, banner %q", err, banner)
	}
	for _, want := range []string{"sign-in refused: too many failed attempts", "ssh login refused: too many failed passwords"} {
		if !strings.Contains(e.log.String(), want) {
			t.Fatalf("no %q in the log:\n%s", want, e.log.String())
		}
	}
}
