package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// demoSession starts `corral demo` in-process on free ports and signs in
// with the printed credentials.
func demoSession(t *testing.T) (base string, hc *http.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--ssh-addr", "127.0.0.1:0"}, env(nil), nil, out, &syncBuffer{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo exited with %v", err)
		}
	})
	re := regexp.MustCompile(`Open\s+(http://\S+)\s+Sign in\s+demo / (\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	var m []string
	for m == nil {
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no URL and login:\n%s", out.String())
		}
		select {
		case err := <-done:
			t.Fatalf("demo exited early: %v\n%s", err, out.String())
		default:
		}
		m = re.FindStringSubmatch(out.String())
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "ssh -p ") {
		t.Errorf("demo did not print the ssh command:\n%s", out.String())
	}
	base, password := m[1], m[2]
	jar, _ := cookiejar.New(nil)
	hc = &http.Client{Jar: jar}
	res, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	tok, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	res, err = hc.PostForm(base+"/login", url.Values{"username": {"demo"}, "password": {password}, "_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/containers") {
		t.Fatalf("demo login ended at %s with %d", res.Request.URL, res.StatusCode)
	}
	return base, hc
}

func TestDemoSignsInWithPrintedCredentials(t *testing.T) {
	base, hc := demoSession(t)
	res, err := hc.Get(base + "/settings/nodes")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/settings/nodes = %d", res.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	text := doc.Find("table").Text()
	for _, n := range []string{"pve1", "pve2", "pve3", "pve-solo", "homelab"} {
		if !strings.Contains(text, n) {
			t.Errorf("demo nodes page lacks %s:\n%s", n, text)
		}
	}
}
