package guest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfinement tries to reach a host directory next to the root in
// every way a script could; each attempt must fail or land inside the root,
// and the host directory must be untouched.
func TestConfinement(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("HOSTSECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "evil.sh"), []byte("#!/bin/sh\necho HOSTSECRET\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := New(root, "ct101")
	if err != nil {
		t.Fatal(err)
	}
	// Links planted in the root by someone on the host.
	for link, target := range map[string]string{"rel": "../outside", "abs": outside, "etc/evil": secret} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	up := strings.Repeat("../", 12)
	attempts := []string{
		"cat " + up + outside + "/secret.txt",
		"cat " + secret,
		"cat /rel/secret.txt",
		"cat /abs/secret.txt",
		"cat /etc/evil",
		"cd /..; cd ..; cat outside/secret.txt",
		"cd /..; ls; ls " + outside,
		"echo " + outside + "/*",
		"source " + secret,
		". /abs/secret.txt",
		"echo $(< " + secret + ")",
		"while read l; do echo $l; done < /rel/secret.txt",
		"echo pwned > " + up + outside + "/pwned",
		"echo pwned > /rel/pwned",
		"echo pwned >> /abs/secret.txt",
		"cp /etc/hostname /rel/pwned",
		"cp -r /etc /abs/",
		"mv /etc/hostname /abs/moved",
		"touch /rel/touched " + outside + "/touched",
		"mkdir -p /rel/newdir /abs/newdir",
		"tee /abs/teed </etc/hostname",
		"sed -i s/HOST/PWNED/ /etc/evil /abs/secret.txt " + secret,
		"chmod 000 /abs/secret.txt /etc/evil",
		"rm -rf /rel/* /abs/*; rm -f /etc/evil; rm -rf /rel /abs",
		"ln -s " + outside + " /l2; echo pwned > /l2/pwned; cat /l2/secret.txt",
		"ln -s ../../../.. /l3; cat /l3" + secret,
		"ln " + secret + " /hard; cat /hard",
		outside + "/evil.sh",
		"/bin/sh " + outside + "/evil.sh",
		"cd " + outside + " && ./evil.sh",
		"export PATH=" + outside + ":$PATH; evil.sh",
		"xargs cat <<< " + secret,
		"grep -r HOST " + outside + " /abs/",
		"base64 /abs/secret.txt | base64 -d",
		"cat /.pvesim-state.json; ls -a /; echo x > /.pvesim-state.lock",
	}
	for _, script := range attempts {
		out, errOut, code := sh(t, g, script)
		t.Logf("%q => %d\n%s%s", script, code, out, errOut)
		if strings.Contains(out+errOut, "HOSTSECRET") || strings.Contains(out+errOut, "PWNED") {
			t.Errorf("%q reached the host:\nstdout: %s\nstderr: %s", script, out, errOut)
		}
		if strings.Contains(out+errOut, base) && !strings.Contains(script, base) {
			t.Errorf("%q revealed the host path:\n%s%s", script, out, errOut)
		}
		if strings.Contains(out, ".pvesim-state") {
			t.Errorf("%q showed the state file:\n%s", script, out)
		}
	}
	ents, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		t.Errorf("outside dir changed: %v", ents)
	}
	if b, _ := os.ReadFile(secret); string(b) != "HOSTSECRET\n" {
		t.Errorf("secret changed: %q", b)
	}
	if fi, _ := os.Stat(secret); fi.Mode().Perm() != 0o644 {
		t.Errorf("secret mode changed: %v", fi.Mode())
	}
	// The absolute link resolves inside the root: writing through it
	// creates the file there.
	mustSh(t, g, "mkdir -p /tmp/target && ln -s /tmp/target /etc/link && echo ok > /etc/link/f")
	if b, err := os.ReadFile(filepath.Join(root, "tmp/target/f")); err != nil || string(b) != "ok\n" {
		t.Errorf("write through in-root link: %q %v", b, err)
	}
}

func TestSymlinkLoop(t *testing.T) {
	g := newGuest(t)
	_, errOut, code := sh(t, g, "ln -s /a /b; ln -s /b /a; cat /a")
	if code == 0 || !strings.Contains(errOut, "/a") {
		t.Errorf("loop: code %d, stderr %q", code, errOut)
	}
}
