package gateway

import (
	"errors"
	"net"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// Permission extensions that carry the identity of the login attempt that
// succeeded. x/crypto keeps the Permissions of that very attempt on the
// ServerConn, so nothing a callback saw for an earlier attempt (another
// user name, a key only offered) can leak into the session.
const (
	extUserID = "corral-user-id"
	extUser   = "corral-user"
	extLogin  = "corral-login" // the SSH user name as typed, e.g. "alice+105"
	extMethod = "corral-method"
	extKey    = "corral-key" // wire-format public key of a publickey login
)

var (
	errLocked     = errors.New("too many failed logins")
	errNoneMethod = errors.New("authentication required")
)

// lockedMessage is sent as an auth banner while a client is locked out.
const lockedMessage = "corral: too many failed password logins; try again later, or use a registered SSH key\n"

// serverConfig replaces gliderlabs' auth plumbing with x/crypto callbacks
// that see each attempt's own ConnMetadata (gliderlabs' context keeps the
// user name of the first attempt only). It is used as ServerConfigCallback
// while the gliderlabs auth handlers stay nil, so "none" would be allowed;
// NoClientAuthCallback refuses it.
func (srv *Server) serverConfig(ctx gliderssh.Context) *ssh.ServerConfig {
	return &ssh.ServerConfig{
		NoClientAuth:         true,
		NoClientAuthCallback: func(ssh.ConnMetadata) (*ssh.Permissions, error) { return nil, errNoneMethod },
		PasswordCallback: func(conn ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			user, _ := splitLogin(conn.User())
			judged, err := srv.reserve(ctx, conn, user)
			if err != nil {
				return nil, err
			}
			ref, err := srv.deps.Auth.PasswordLogin(ctx, user, string(password), conn.RemoteAddr())
			if err != nil {
				judged(false)
				srv.loginFailed(ctx, conn, user, "password")
				return nil, err
			}
			judged(true)
			srv.loginOK(ctx, conn, ref, "password", nil)
			return loginPermissions(ref, conn.User(), "password", nil), nil
		},
		// Called for offered keys too: it only says whether the key would do.
		// The password limiter has no say here: keys cannot be guessed, and
		// failed passwords (say, in the browser) must not lock a user out
		// of key logins.
		PublicKeyCallback: func(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			user, _ := splitLogin(conn.User())
			ref, err := srv.deps.Auth.PublicKeyLogin(ctx, user, key, conn.RemoteAddr())
			if err != nil {
				// Clients offer every key they have; these are not failures.
				return nil, err
			}
			return loginPermissions(ref, conn.User(), "publickey", key), nil
		},
		// Called only once the client proved it holds the key.
		VerifiedPublicKeyCallback: func(conn ssh.ConnMetadata, key ssh.PublicKey, p *ssh.Permissions, _ string) (*ssh.Permissions, error) {
			ref := UserRef{ID: p.Extensions[extUserID], Name: p.Extensions[extUser]}
			srv.loginOK(ctx, conn, ref, "publickey", key)
			return p, nil
		},
	}
}

func loginPermissions(ref UserRef, login, method string, key ssh.PublicKey) *ssh.Permissions {
	ext := map[string]string{extUserID: ref.ID, extUser: ref.Name, extLogin: login, extMethod: method}
	if key != nil {
		ext[extKey] = string(key.Marshal())
	}
	return &ssh.Permissions{Extensions: ext}
}

// identity is the user who logged in, read from the successful attempt's
// permissions and checked against the session's user name and key.
func identity(s gliderssh.Session) (UserRef, bool) {
	p := s.Permissions().Permissions
	if p == nil || p.Extensions[extUserID] == "" {
		return UserRef{}, false
	}
	if p.Extensions[extLogin] != s.User() {
		return UserRef{}, false
	}
	key := s.PublicKey()
	switch p.Extensions[extMethod] {
	case "publickey":
		if key == nil || string(key.Marshal()) != p.Extensions[extKey] {
			return UserRef{}, false
		}
	case "password":
		if key != nil {
			return UserRef{}, false
		}
	default:
		return UserRef{}, false
	}
	return UserRef{ID: p.Extensions[extUserID], Name: p.Extensions[extUser]}, true
}

func remoteIP(a net.Addr) string {
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}

// reserve counts a password attempt for the address and the account
// before the password is checked (see Limiter). A refusal is logged and
// audited, and the client is told why in a banner.
func (srv *Server) reserve(ctx gliderssh.Context, conn ssh.ConnMetadata, user string) (judged func(right bool), err error) {
	judged, ok := srv.deps.Limiter.Reserve(ctx, "ip:"+remoteIP(conn.RemoteAddr()), "user:"+user)
	if ok {
		return judged, nil
	}
	srv.log.Warn("ssh login refused: too many failed passwords", "user", user, "remote", conn.RemoteAddr().String())
	srv.audit(ctx, Event{Kind: EventAuthLocked, User: user, Remote: conn.RemoteAddr().String(), Method: "password", Reason: errLocked.Error()})
	return nil, &ssh.BannerError{Err: errLocked, Message: lockedMessage}
}

func (srv *Server) loginFailed(ctx gliderssh.Context, conn ssh.ConnMetadata, user, method string) {
	srv.audit(ctx, Event{Kind: EventAuthFailed, User: user, Remote: conn.RemoteAddr().String(), Method: method})
}

func (srv *Server) loginOK(ctx gliderssh.Context, conn ssh.ConnMetadata, ref UserRef, method string, key ssh.PublicKey) {
	// Only the user's count is cleared: a login to one's own account must not
	// wipe the failures an address piled up against others.
	srv.deps.Limiter.Success("user:" + ref.Name)
	if c, ok := ctx.Value(connKey{}).(net.Conn); ok {
		srv.conns.add(ctx, ref.ID, c)
	}
	e := Event{Kind: EventAuthOK, UserID: ref.ID, User: ref.Name, Remote: conn.RemoteAddr().String(), Method: method}
	if key != nil {
		e.Fingerprint = ssh.FingerprintSHA256(key)
	}
	srv.audit(ctx, e)
}
