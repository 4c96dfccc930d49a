package guest

import (
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, `mkdir -p /w && cd /w && printf 'b\na\nc\na\n' > list && printf 'one two\nthree\n' > words && printf 'k1=v1\nk2=v2\n' > kv`)
	tests := []struct {
		name, script, want string
		code               int
	}{
		{"cat", "cat /w/kv", "k1=v1\nk2=v2\n", 0},
		{"cat stdin", "echo hi | cat", "hi\n", 0},
		{"cat missing", "cat /nope", "", 1},
		{"ls", "ls /w", "kv\nlist\nwords\n", 0},
		{"ls -a", "mkdir /w2 && touch /w2/.h /w2/v && ls -a /w2", ".\n..\n.h\nv\n", 0},
		{"ls -l", "ls -l /w/kv | cut -d' ' -f1,3,4", "-rw-r--r-- root root\n", 0},
		{"ls missing", "ls /nope", "", 2},
		{"mkdir -p", "mkdir -p /a/b/c && [ -d /a/b/c ] && echo yes", "yes\n", 0},
		{"mkdir exists", "mkdir /w", "", 1},
		{"rm -rf", "mkdir -p /r/x && touch /r/x/f && rm -rf /r && [ ! -e /r ] && echo gone", "gone\n", 0},
		{"rm dir", "mkdir /r2; rm /r2", "", 1},
		{"rm -f missing", "rm -f /nope", "", 0},
		{"cp", "cp /w/kv /tmp/kv2 && cat /tmp/kv2", "k1=v1\nk2=v2\n", 0},
		{"cp -r", "cp -r /w /w3 && ls /w3", "kv\nlist\nwords\n", 0},
		{"mv", "cp /w/kv /tmp/m && mv /tmp/m /tmp/n && cat /tmp/n && [ ! -e /tmp/m ]", "k1=v1\nk2=v2\n", 0},
		{"chmod octal", "touch /tmp/x && chmod 750 /tmp/x && stat -c %a /tmp/x", "750\n", 0},
		{"chmod symbolic", "touch /tmp/y && chmod 600 /tmp/y && chmod u+x,g+r /tmp/y && stat -c %a /tmp/y", "740\n", 0},
		{"chown", "useradd -m coder && touch /tmp/o && chown coder:coder /tmp/o && stat -c '%U:%G' /tmp/o", "coder:coder\n", 0},
		{"chown unknown", "chown nobody2 /tmp/o", "", 1},
		{"touch", "touch /tmp/t && [ -f /tmp/t ] && echo ok", "ok\n", 0},
		{"readlink", "mkdir -p /.rl/d && ln -s d /.rl/l && ln -s /.rl/l/f /.rl/m && readlink /.rl/l /.rl/m", "d\n/.rl/l/f\n", 0},
		{"readlink -f", "readlink -f /.rl/m", "/.rl/d/f\n", 0},
		{"readlink -e missing", "readlink -e /.rl/m", "", 1},
		{"readlink not a link", "readlink /.rl/d", "", 1},
		{"head", "head -n 2 /w/list", "b\na\n", 0},
		{"head -N", "head -1 /w/list", "b\n", 0},
		{"head -c", "echo abcdef | head -c 3", "abc", 0},
		{"tail", "tail -n 1 /w/list", "a\n", 0},
		{"tail +N", "tail -n +3 /w/list", "c\na\n", 0},
		{"grep", "grep a /w/list", "a\na\n", 0},
		{"grep -v", "grep -v a /w/list", "b\nc\n", 0},
		{"grep -i", "echo HELLO | grep -i hello", "HELLO\n", 0},
		{"grep -E", "grep -E '^(b|c)$' /w/list", "b\nc\n", 0},
		{"grep BRE", `echo 'a+b' | grep 'a+b'`, "a+b\n", 0},
		{"grep BRE group", `echo abab | grep -o '\(ab\)\{2\}'`, "abab\n", 0},
		{"grep -q", "grep -q k2 /w/kv && echo found", "found\n", 0},
		{"grep no match", "grep zzz /w/list", "", 1},
		{"grep -c", "grep -c a /w/list", "2\n", 0},
		{"grep -F", "echo 'a.b' | grep -F .", "a.b\n", 0},
		{"sed s///g", "echo aaa | sed 's/a/b/g'", "bbb\n", 0},
		{"sed first", "echo aaa | sed s/a/b/", "baa\n", 0},
		{"sed groups", `echo 'key=val' | sed -E 's/(.*)=(.*)/\2=\1/'`, "val=key\n", 0},
		{"sed -i", "cp /w/kv /tmp/s && sed -i 's/v1/new/' /tmp/s && cat /tmp/s", "k1=new\nk2=v2\n", 0},
		{"sed delim", "echo /usr/bin | sed 's|/usr|/opt|'", "/opt/bin\n", 0},
		{"sed d", "sed '/k1/d' /w/kv", "k2=v2\n", 0},
		{"sed -n p", "sed -n '2p' /w/list", "a\n", 0},
		{"sed &", "echo x | sed 's/x/[&]/'", "[x]\n", 0},
		{"wc -l", "wc -l < /w/list", "4\n", 0},
		{"wc -l file", "wc -l /w/list", "4 /w/list\n", 0},
		{"wc -w", "wc -w < /w/words", "3\n", 0},
		{"wc -c", "echo -n abc | wc -c", "3\n", 0},
		{"sort", "sort /w/list", "a\na\nb\nc\n", 0},
		{"sort -r", "sort -r /w/list", "c\nb\na\na\n", 0},
		{"sort -n", "printf '10\n9\n100\n' | sort -n", "9\n10\n100\n", 0},
		{"sort -u", "sort -u /w/list", "a\nb\nc\n", 0},
		{"uniq", "sort /w/list | uniq", "a\nb\nc\n", 0},
		{"uniq -c", "sort /w/list | uniq -c", "      2 a\n      1 b\n      1 c\n", 0},
		{"cut -d -f", "cut -d= -f2 /w/kv", "v1\nv2\n", 0},
		{"cut -c", "echo abcdef | cut -c2-4", "bcd\n", 0},
		{"tr", "echo hello | tr a-z A-Z", "HELLO\n", 0},
		{"tr -d", "echo h-e-l | tr -d -- -", "hel\n", 0},
		{"tr -dc", "echo 'a1!b2' | tr -dc '[:alnum:]'", "a1b2", 0},
		{"tr -s", "echo 'a   b' | tr -s ' '", "a b\n", 0},
		{"basename", "basename /a/b/c.txt .txt", "c\n", 0},
		{"dirname", "dirname /a/b/c.txt", "/a/b\n", 0},
		{"mktemp", "f=$(mktemp) && [ -f $f ] && dirname $f", "/tmp\n", 0},
		{"mktemp -d", "d=$(mktemp -d) && [ -d $d ] && echo dir", "dir\n", 0},
		{"tee", "echo x | tee /tmp/tee1 >/dev/null && cat /tmp/tee1", "x\n", 0},
		{"tee -a", "echo y | tee -a /tmp/tee1 && cat /tmp/tee1", "y\nx\ny\n", 0},
		{"base64", "echo -n hello | base64", "aGVsbG8=\n", 0},
		{"base64 -d", "echo aGVsbG8= | base64 -d", "hello", 0},
		{"sha256sum", "echo -n abc | sha256sum", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n", 0},
		{"xargs", "printf 'a\nb\n' | xargs echo", "a b\n", 0},
		{"xargs -I", "printf 'a\nb\n' | xargs -I{} echo x{}", "xa\nxb\n", 0},
		{"xargs -n", "echo 1 2 3 | xargs -n 2 echo", "1 2\n3\n", 0},
		{"ln -s", "ln -s /w/kv /tmp/lnk && readlink /tmp/lnk; cat /tmp/lnk | head -1", "/w/kv\nk1=v1\n", 0},
		{"install", "install -m 0755 /w/kv /usr/local/bin/kv && stat -c %a /usr/local/bin/kv", "755\n", 0},
		{"install -d", "install -d -m 700 /srv/secret && stat -c %a /srv/secret", "700\n", 0},
		{"stat", "stat -c '%n %s' /w/kv", "/w/kv 12\n", 0},
		{"sleep", "sleep 0.01 && echo ok", "ok\n", 0},
		{"date +", "date +%Y | grep -c '^20'", "1\n", 0},
		{"uname", "uname", "Linux\n", 0},
		{"uname -r", "uname -r", "6.8.12-4-pve\n", 0},
		{"hostname", "hostname", "ct101\n", 0},
		{"id", "id", "uid=0(root) gid=0(root) groups=0(root)\n", 0},
		{"id -u", "id -u", "0\n", 0},
		{"id user", "useradd -m -s /bin/bash dev && id -u dev && getent passwd dev | cut -d: -f6,7", "1001\n/home/dev:/bin/bash\n", 0},
		{"useradd twice", "useradd dev", "", 9},
		{"usermod", "usermod -aG sudo dev && id -nG dev && getent group sudo", "dev sudo\nsudo:x:27:dev\n", 0},
		{"whoami", "whoami", "root\n", 0},
		{"env", "FOO=bar env | grep ^FOO", "FOO=bar\n", 0},
		{"env cmd", "env A=1 bash -c 'echo $A'", "1\n", 0},
		{"true false", "true && ! false && echo ok", "ok\n", 0},
		{"which", "which ls", "/usr/bin/ls\n", 0},
		{"which missing", "which nope", "", 1},
		{"command -v", "command -v cat; command -v cd", "/usr/bin/cat\ncd\n", 0},
		{"command -v missing", "command -v nope", "", 1},
		{"type", "type -t echo; f() { :; }; type -t f; type -t ls", "builtin\nfunction\nfile\n", 0},
		{"unknown", "nosuchcmd", "", 127},
		{"command -v in pipeline", "f() { :; }; command -v f | cat; (command -v ls) & wait; type f | head -1", "f\n/usr/bin/ls\nf is a function\n", 0},
		{"dpkg -s base", "dpkg -s bash | head -2", "Package: bash\nStatus: install ok installed\n", 0},
		{"dpkg -s missing", "dpkg -s nginx", "", 1},
		{"apt bogus", "apt-get install -y -qq xyzzy-not-a-package", "", 100},
		{"curl", "curl -fsSL https://example.com/install.sh", "", 7},
		{"wget", "wget -q https://example.com/x", "", 4},
		{"hostname -I", "hostname -I | grep -cE '^10\\.10\\.10\\.[0-9]+ $'", "1\n", 0},
		{"ip -4 addr", "ip -4 -o addr show scope global | grep -o 'inet [0-9./]*' | cut -d. -f1-3", "inet 10.10.10\n", 0},
		{"pgrep", "pgrep -x sshd | grep -c .", "1\n", 0},
		{"pgrep -P", "pgrep -P 1", "", 1},
		{"sudo", "sudo -u coder bash -c 'echo $((1+1))'", "2\n", 0},
		{"here-doc", "cat <<'EOF' > /tmp/h\nline $HOME\nEOF\ncat /tmp/h", "line $HOME\n", 0},
		{"dev null", "echo x >/dev/null 2>&1; [ -e /dev/null ] && echo ok", "ok\n", 0},
		{"dev zero through a link", "ln -s /dev/zero /tmp/zlink && head -c 4 /tmp/zlink", "\x00\x00\x00\x00", 0},
		{"dev null through a link", "ln -s ../dev/null /tmp/nlink && echo x >/tmp/nlink && cat /tmp/nlink", "", 0},
		{"urandom", "head -c 8 /dev/urandom | wc -c", "8\n", 0},
		{"script in root", "printf '#!/bin/bash\\necho from $1\\n' > /usr/local/bin/hello && chmod +x /usr/local/bin/hello && hello arg", "from arg\n", 0},
		{"script not executable", "echo 'echo x' > /tmp/ne.sh && /tmp/ne.sh", "", 126},
		{"sh script path", "echo 'echo $0 $1' > /tmp/s.sh && sh /tmp/s.sh one", "/tmp/s.sh one\n", 0},
		{"full path command", "/usr/bin/env | grep -c ^HOME=", "1\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := sh(t, g, tc.script)
			if code != tc.code || out != tc.want {
				t.Errorf("%q:\n got %d %q\nwant %d %q\nstderr: %s", tc.script, code, out, tc.code, tc.want, errOut)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	g := newGuest(t)
	tests := []struct{ script, stderr string }{
		{"nosuchcmd", "nosuchcmd: command not found\n"},
		{"apt-get install -y curl xyzzy-bogus", "E: Unable to locate package xyzzy-bogus\n"},
		{"cat /nope", "cat: /nope: No such file or directory\n"},
		{"curl http://10.0.0.1:8080/", "Network is unreachable"},
		{"systemctl start nope", "Failed to start nope.service: Unit nope.service not found.\n"},
		{"dpkg -s nginx", "dpkg-query: package 'nginx' is not installed and no information is available\n"},
	}
	for _, tc := range tests {
		_, errOut, _ := sh(t, g, tc.script)
		if !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%q: stderr %q, want it to contain %q", tc.script, errOut, tc.stderr)
		}
	}
	if got := g.Installed()["apt"]; len(got) != 0 {
		t.Errorf("a failed apt-get install recorded %v", got)
	}
}
