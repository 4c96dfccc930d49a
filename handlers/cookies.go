package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// CookiePolicy decides when cookies carry the Secure attribute. Corral
// rarely terminates TLS itself: behind an HTTPS proxy the request it sees
// is plain HTTP, so it is told (AlwaysSecure) or believes the proxy's
// X-Forwarded-Proto, but only when that proxy is trusted.
type CookiePolicy struct {
	AlwaysSecure bool // --cookie-secure: users reach Corral over HTTPS only
	TrustProxy   bool // --trust-proxy: the proxy in front sets X-Forwarded-Proto
}

// Secure reports whether cookies set in answer to r must be Secure.
func (p CookiePolicy) Secure(r *http.Request) bool {
	if p.AlwaysSecure || r.TLS != nil {
		return true
	}
	if !p.TrustProxy {
		return false
	}
	// The first entry is the scheme the client used at the outermost proxy.
	proto, _, _ := strings.Cut(r.Header.Get(echo.HeaderXForwardedProto), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// secureCookies marks every cookie of a secure request Secure just before
// the headers go out, so no cookie (session, CSRF, flash, any added later)
// is left to its writer remembering it.
func (h *Handler) secureCookies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.Cookies.Secure(c.Request()) {
			res := c.Response()
			res.Before(func() { markSecure(res.Header()) })
		}
		return next(c)
	}
}

func markSecure(hd http.Header) {
	lines := hd.Values("Set-Cookie")
	if len(lines) == 0 {
		return
	}
	hd.Del("Set-Cookie")
	for _, line := range lines {
		if ck, err := http.ParseSetCookie(line); err == nil && !ck.Secure {
			ck.Secure = true
			line = ck.String()
		}
		hd.Add("Set-Cookie", line)
	}
}
