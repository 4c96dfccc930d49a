package main

import (
	"bytes"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/ssh"

	"corral/handlers/formtest"
	"corral/store"
)

// demoTemplateChecks are commands run in a finished container, through the
// SSH gateway, that show a built-in template did what it says; each must
// exit 0 and print its text.
var demoTemplateChecks = map[string]struct{ cmd, want string }{
	"Debian base": {"cat /etc/apt/apt.conf.d/20auto-upgrades", `APT::Periodic::Unattended-Upgrade "1";`},
	"Docker host": {"docker compose version && docker buildx version && grep -h download.docker.com /etc/apt/sources.list.d/docker.list",
		"signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian   bookworm stable"},
	"Static web server": {"nginx -t 2>&1 && ls /etc/nginx/sites-enabled && cat /var/www/html/index.html", "test is successful\nstatic\n<!doctype html>"},
}

// TestDemoBuiltinTemplatesFinishReady creates a container from every
// built-in template, and one from scratch, in `corral demo` the way a
// person does (the wizard's forms, then the progress page), and expects
// every job to end ready with every step done (issue 14). The simulated
// containers run each template's real packages and scripts.
func TestDemoBuiltinTemplatesFinishReady(t *testing.T) {
	base, hc, sshAddr, password := demoSession(t)
	type choice struct{ name, id string }
	choices := []choice{{"From scratch", "scratch"}}
	start := demoGet(t, hc, base+"/containers/new")
	for _, b := range store.BuiltinTemplates() {
		id, ok := start.Find(`input[name="template"][data-testid="template-` + b.Name + `"]`).Attr("value")
		if !ok {
			t.Fatalf("the wizard does not offer the built-in %q", b.Name)
		}
		choices = append(choices, choice{b.Name, id})
	}
	for name := range demoTemplateChecks {
		if !slices.ContainsFunc(choices, func(c choice) bool { return c.name == name }) {
			t.Errorf("a check names %q, which is no built-in template", name)
		}
	}

	client, err := ssh.Dial("tcp", sshAddr, &ssh.ClientConfig{
		User: "demo", Auth: []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // the gateway's key is not what this test is about
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh to the demo gateway: %v", err)
	}
	defer client.Close()

	// One after the other, as a person would: each from a fresh wizard,
	// which offers the next free VMID once the previous container exists.
	for _, c := range choices {
		t.Run(c.name, func(t *testing.T) {
			host := strings.ToLower(strings.ReplaceAll(c.name, " ", "-"))
			doc := demoPost(t, hc, base+"/containers/new", demoForm(t, demoGet(t, hc, base+"/containers/new")), func(v url.Values) {
				v.Set("template", c.id)
				v.Set("step", "configure")
			})
			doc = demoPost(t, hc, base+"/containers/new", demoForm(t, doc), func(v url.Values) {
				v.Set("hostname", host)
				v.Set("step", "review")
			})
			if st, _ := doc.Find("form#wizard").Attr("data-step"); st != "review" {
				t.Fatalf("the wizard stayed at %q: %s", st, doc.Find(`[data-testid="field-error"]`).Text())
			}
			res := demoSubmit(t, hc, base+"/containers", demoForm(t, doc), nil)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.Path, "/jobs/") {
				t.Fatalf("creating ended at %s with %d", res.Request.URL, res.StatusCode)
			}

			page := demoJobEnd(t, hc, res.Request.URL.String())
			if state, _ := page.Find(`[data-testid="job-status"]`).Attr("data-state"); state != "done" {
				t.Fatalf("the job ended %q: %s\nlog tail:\n%s", state,
					strings.Join(strings.Fields(page.Find(`[data-testid="job-error"]`).Text()), " "), demoLogTail(page))
			}
			steps := page.Find(`[data-testid="job-steps"] li`)
			if steps.Length() == 0 {
				t.Error("the progress page lists no steps")
			}
			steps.Each(func(_ int, s *goquery.Selection) {
				if st, _ := s.Attr("data-state"); st != "done" {
					t.Errorf("step %q is %q", strings.TrimSpace(s.Text()), st)
				}
			})
			check, ok := demoTemplateChecks[c.name]
			if !ok {
				return
			}
			href, _ := page.Find(`[data-testid="job-container-link"]`).Attr("href")
			vmid := path.Base(href)
			out, err := demoSSH(t, client, vmid+" -- sh -c '"+check.cmd+"'")
			if err != nil || !strings.Contains(out, check.want) {
				t.Errorf("in CT %s, %q gave %v:\n%s\nwant %q", vmid, check.cmd, err, out, check.want)
			}
		})
	}
}

// demoJobEnd polls a job's progress page until the job has finished; the
// deadline only guards against a hang.
func demoJobEnd(t *testing.T, hc *http.Client, url string) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		doc := demoGet(t, hc, url)
		switch st, _ := doc.Find(`[data-testid="job-status"]`).Attr("data-state"); st {
		case "done", "failed", "interrupted":
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never finished:\n%s", url, demoLogTail(doc))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func demoLogTail(doc *goquery.Document) string {
	var lines []string
	doc.Find(`#job-log-lines .logline`).Each(func(_ int, s *goquery.Selection) { lines = append(lines, s.Text()) })
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	return strings.Join(lines, "\n")
}

func demoSSH(t *testing.T, client *ssh.Client, cmd string) (string, error) {
	t.Helper()
	s, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Two buffers: the session copies both streams at once.
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	err = s.Run(cmd)
	return stdout.String() + stderr.String(), err
}

func demoGet(t *testing.T, hc *http.Client, url string) *goquery.Document {
	t.Helper()
	res, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, res.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// demoSubmit posts a form as a browser would after change, following
// redirects.
func demoSubmit(t *testing.T, hc *http.Client, url string, v url.Values, change func(url.Values)) *http.Response {
	t.Helper()
	if change != nil {
		change(v)
	}
	res, err := hc.PostForm(url, v)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func demoPost(t *testing.T, hc *http.Client, url string, v url.Values, change func(url.Values)) *goquery.Document {
	t.Helper()
	res := demoSubmit(t, hc, url, v, change)
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d: %s", url, res.StatusCode, strings.Join(strings.Fields(doc.Find("main").Text()), " "))
	}
	return doc
}

// demoForm reads the wizard form as a browser submits it.
func demoForm(t *testing.T, doc *goquery.Document) url.Values {
	t.Helper()
	form := doc.Find("form#wizard")
	if form.Length() == 0 {
		t.Fatalf("no wizard form on the page: %s", strings.Join(strings.Fields(doc.Find("main").Text()), " "))
	}
	return formtest.Values(form)
}
