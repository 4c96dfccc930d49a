package provision

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"corral/exec/inspect"
	"corral/proxmox/pvesim/guest"
	"corral/store"
)

func TestPlanStepList(t *testing.T) {
	p := store.Plan{VMID: 120, Hostname: "web", PVENode: "pve1",
		Files:    []store.File{{Name: "a"}},
		Packages: []store.Package{{Manager: "pip", Name: "x"}, {Manager: "apt", Name: "y"}, {Manager: "apt", Name: "z"}},
		Scripts:  []store.Script{{Name: "10-a.sh"}, {Name: "20-b.sh"}},
	}
	var keys []string
	for _, s := range Steps(p) {
		keys = append(keys, s.Key)
	}
	want := []string{"create", "start", "wait", "files", "pkg:apt", "pkg:pip", "script:0", "script:1", "discover"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	steps := Steps(p)
	if len(steps) != len(want) || steps[4].Label != "Install 2 apt package(s)" || steps[7].Label != "Run script 20-b.sh" {
		t.Fatalf("labels %q", steps)
	}
	if Steps(p)[7].Script != "20-b.sh" {
		t.Fatal("script step without its script name")
	}
}

func TestCheckFile(t *testing.T) {
	ok := store.File{Name: "a.conf", TargetDir: "/etc/app", Policy: "backup", Mode: "0640", Owner: "www-data:www-data"}
	if err := checkFile(ok); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.File{
		{Name: "../x", TargetDir: "/etc", Policy: "replace"},
		{Name: "x", TargetDir: "etc", Policy: "replace"},
		{Name: "x", TargetDir: "/etc/../root", Policy: "replace"},
		{Name: "x", TargetDir: "/etc", Policy: "sometimes"},
		{Name: "x", TargetDir: "/etc", Policy: "replace", Mode: "rwx"},
		{Name: "x", TargetDir: "/etc", Policy: "replace", Owner: "root; rm -rf /"},
	} {
		if checkFile(bad) == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// guestSh runs a shell command in a simulated container the way pct exec
// would, returning stdout, stderr and the exit code.
func guestSh(t *testing.T, g *guest.Guest, argv []string, stdin string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := g.Exec(context.Background(), argv, nil, guest.Stdio{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestHelperScript sources the helper environment in a simulated container:
// logging format, OS detection, PATH, and save_credential's upsert with
// values a sed-based version would mangle.
func TestHelperScript(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ct")
	g, err := guest.New(root, "ct1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "tmp/h.sh"), []byte(HelperScript), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `. /tmp/h.sh
set -eu
log_info "on $CONTAINER_OS $CONTAINER_OS_VERSION via $_PKG_MGR"
log_warn careful
log_error bad
echo "PATH=$PATH"
save_credential app PASSWORD 'a|b&c/d'
save_credential app USER first
save_credential app USER second
p=$(generate_password 24)
echo "len=${#p}"
is_installed nosuchtool || echo "nosuchtool missing"
`
	out, errOut, code := guestSh(t, g, []string{"bash", "-c", script}, "")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`(?m)^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INFO   \] on debian 12 via apt$`).MatchString(out) {
		t.Errorf("info line:\n%s", out)
	}
	if !strings.Contains(out, "] [WARNING] careful") || !strings.Contains(errOut, "] [ERROR  ] bad") {
		t.Errorf("warn/error lines:\n%s\n%s", out, errOut)
	}
	for _, want := range []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "len=24", "nosuchtool missing"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	cred, err := os.ReadFile(filepath.Join(root, "etc/corral/credentials/app"))
	if err != nil {
		t.Fatal(err)
	}
	if string(cred) != "PASSWORD=a|b&c/d\nUSER=second\n" {
		t.Errorf("credential file %q", cred)
	}
	if got := inspect.ParseCredentials(string(cred)); len(got) != 2 || got[0].Value != "a|b&c/d" {
		t.Errorf("discovery reads %+v", got)
	}
}

// TestDeployFileScript runs the deploy script for each policy against
// existing and missing targets in a simulated container.
func TestDeployFileScript(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ct")
	g, err := guest.New(root, "ct1")
	if err != nil {
		t.Fatal(err)
	}
	write := func(p, c string) {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(c), 0o644)
	}
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(root, p)); return string(b) }
	write("srv/default.conf", "mine\n")
	write("srv/backup.conf", "old\n")
	write("srv/same.conf", "same\n")
	deploy := func(name, policy, content string) string {
		t.Helper()
		f := store.File{Name: name, TargetDir: "/srv", Policy: store.FilePolicy(policy), Mode: "0600", Content: content}
		out, errOut, code := guestSh(t, g, deployArgv(f, "20260101-000000"), content)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", name, code, errOut)
		}
		return out
	}
	if out := deploy("default.conf", "default", "template\n"); !strings.Contains(out, "kept") || read("srv/default.conf") != "mine\n" {
		t.Errorf("default over an edit: %q %q", out, read("srv/default.conf"))
	}
	if out := deploy("backup.conf", "backup", "new\n"); !strings.Contains(out, "backed up") || read("srv/backup.conf") != "new\n" || read("srv/backup.conf.backup-20260101-000000") != "old\n" {
		t.Errorf("backup: %q", out)
	}
	if out := deploy("same.conf", "backup", "same\n"); !strings.Contains(out, "unchanged") {
		t.Errorf("identical: %q", out)
	}
	if out := deploy("fresh.conf", "replace", "x\n"); !strings.Contains(out, "deployed") || read("srv/fresh.conf") != "x\n" {
		t.Errorf("replace: %q", out)
	}
	if st, _ := os.Stat(filepath.Join(root, "srv/fresh.conf")); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	if m, _ := filepath.Glob(filepath.Join(root, "srv/.corral-new-*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestPlanFeatures: a token may set only nesting, on unprivileged
// containers; everything else becomes a pct set step before the start.
func TestPlanFeatures(t *testing.T) {
	keys := func(p store.Plan) []string {
		var out []string
		for _, s := range Steps(p) {
			out = append(out, s.Key)
		}
		return out
	}
	docker := store.Plan{VMID: 120, Hostname: "d", PVENode: "pve1", Create: store.CreateSpec{Features: store.Features{Unprivileged: true, Nesting: true, Keyctl: true}}}
	if got := APIFeatures(docker.Create); got != (store.Features{Nesting: true}) {
		t.Errorf("API features %+v", got)
	}
	if got := FeaturesCommand(docker); got != "pct set 120 --features nesting=1,keyctl=1" {
		t.Errorf("command %q", got)
	}
	if got, want := keys(docker), []string{"create", "features", "start", "wait", "discover"}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if got := Steps(docker)[1].Label; !strings.HasSuffix(got, "pct set 120 --features nesting=1,keyctl=1") {
		t.Errorf("features step label %q", got)
	}

	nesting := store.Plan{VMID: 121, Create: store.CreateSpec{Features: store.Features{Unprivileged: true, Nesting: true}}}
	if FeaturesCommand(nesting) != "" || slices.Contains(keys(nesting), StepFeatures) {
		t.Errorf("nesting alone needs no root step: %v", keys(nesting))
	}
	privileged := store.Plan{VMID: 122, Create: store.CreateSpec{Features: store.Features{Nesting: true, Fuse: true}}}
	if APIFeatures(privileged.Create) != (store.Features{}) || FeaturesCommand(privileged) != "pct set 122 --features nesting=1,fuse=1" {
		t.Errorf("privileged: API %+v, command %q", APIFeatures(privileged.Create), FeaturesCommand(privileged))
	}
}
