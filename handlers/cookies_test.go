package handlers

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestCookiePolicySecure(t *testing.T) {
	for _, tc := range []struct {
		policy CookiePolicy
		tls    bool
		proto  string
		want   bool
	}{
		{CookiePolicy{}, false, "", false},
		{CookiePolicy{}, true, "", true},
		{CookiePolicy{}, false, "https", false},
		{CookiePolicy{AlwaysSecure: true}, false, "", true},
		{CookiePolicy{TrustProxy: true}, false, "", false},
		{CookiePolicy{TrustProxy: true}, false, "https", true},
		{CookiePolicy{TrustProxy: true}, false, "HTTPS", true},
		{CookiePolicy{TrustProxy: true}, false, "https, http", true},
		{CookiePolicy{TrustProxy: true}, false, "http", false},
		{CookiePolicy{TrustProxy: true}, false, "http, https", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if tc.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		if got := tc.policy.Secure(r); got != tc.want {
			t.Errorf("%+v tls=%v X-Forwarded-Proto=%q: Secure = %v, want %v", tc.policy, tc.tls, tc.proto, got, tc.want)
		}
	}
}
