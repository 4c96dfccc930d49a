package guest

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// apt's sources: /etc/apt/sources.list and sources.list.d/*.list in the
// one-line format, sources.list.d/*.sources in the deb822 format. The
// sandbox's apt reaches a built-in mirror of the repositories in aptRepos
// and nothing else.

// aptSource is one "deb" entry of the sources.
type aptSource struct {
	uri, suite string
	components []string
	signedBy   string // keyring file, "" for the system's trusted keys
	arch       []string
	file       string
}

// aptRepo is a repository the mirror serves.
type aptRepo struct {
	name   string   // what pkgSpec.repo names
	uris   []string // spellings of its URI, without a trailing slash
	suites []string
	keyID  string // the signing subkey apt names when it cannot check a signature; "" for Debian's own
}

func aptRepos() []aptRepo {
	return []aptRepo{
		{name: "debian", uris: []string{"http://deb.debian.org/debian", "https://deb.debian.org/debian"},
			suites: []string{"bookworm", "bookworm-updates", "bookworm-backports"}},
		{name: "debian-security", uris: []string{"http://security.debian.org", "http://security.debian.org/debian-security",
			"https://security.debian.org/debian-security", "http://deb.debian.org/debian-security", "https://deb.debian.org/debian-security"},
			suites: []string{"bookworm-security"}},
		// https://docs.docker.com/engine/install/debian/
		{name: dockerRepo, uris: []string{"https://download.docker.com/linux/debian"},
			suites: []string{"bullseye", "bookworm", "trixie"}, keyID: "7EA0A9C3F273FCD8"},
	}
}

func findRepo(uri string) (aptRepo, bool) {
	uri = strings.TrimRight(uri, "/")
	for _, r := range aptRepos() {
		if slices.Contains(r.uris, uri) {
			return r, true
		}
	}
	return aptRepo{}, false
}

// readAptSources parses every sources file, in apt's order, or returns
// apt's message for the first malformed entry. notes are apt's "N:" lines
// for files it ignores.
func readAptSources(v *vfs) (srcs []aptSource, notes []string, err error) {
	files := []string{"/etc/apt/sources.list"}
	ents, _ := v.ReadDir("/etc/apt/sources.list.d")
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".list") || strings.HasSuffix(name, ".sources"):
			files = append(files, "/etc/apt/sources.list.d/"+name)
		case strings.HasPrefix(name, "."), strings.HasSuffix(name, "~"), strings.HasSuffix(name, ".bak"),
			strings.Contains(name, ".dpkg-"), strings.HasSuffix(name, ".save"):
			// apt ignores these silently
		default:
			notes = append(notes, fmt.Sprintf("N: Ignoring file '%s' in directory '/etc/apt/sources.list.d/' as it has an invalid filename extension", name))
		}
	}
	for _, f := range files {
		b, rerr := v.ReadFile(f)
		if rerr != nil {
			continue
		}
		var got []aptSource
		if strings.HasSuffix(f, ".sources") {
			got, err = parseDeb822Sources(f, string(b))
		} else {
			got, err = parseOneLineSources(f, string(b))
		}
		if err != nil {
			return nil, notes, err
		}
		srcs = append(srcs, got...)
	}
	return srcs, notes, nil
}

// parseOneLineSources reads "deb [opt=val ...] URI SUITE COMPONENT..." lines.
func parseOneLineSources(file, text string) ([]aptSource, error) {
	var out []aptSource
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		typ := fields[0]
		if typ != "deb" && typ != "deb-src" {
			return nil, fmt.Errorf("E: Type '%s' is not known on line %d in source list %s", typ, i+1, file)
		}
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), typ))
		var opts string
		if strings.HasPrefix(rest, "[") {
			end := strings.Index(rest, "]")
			if end < 0 {
				return nil, fmt.Errorf("E: Malformed entry %d in list file %s ([option] not assignment)", i+1, file)
			}
			opts, rest = rest[1:end], rest[end+1:]
		}
		f := strings.Fields(rest)
		switch {
		case len(f) < 1:
			return nil, fmt.Errorf("E: Malformed entry %d in list file %s (URI)", i+1, file)
		case len(f) < 2:
			return nil, fmt.Errorf("E: Malformed entry %d in list file %s (Suite)", i+1, file)
		case len(f) < 3 && !strings.HasSuffix(f[1], "/"):
			return nil, fmt.Errorf("E: Malformed entry %d in list file %s (Component)", i+1, file)
		}
		if typ != "deb" {
			continue
		}
		s := aptSource{uri: f[0], suite: f[1], components: f[2:], file: file}
		for _, o := range strings.Fields(opts) {
			k, val, ok := strings.Cut(o, "=")
			if !ok {
				return nil, fmt.Errorf("E: Malformed entry %d in list file %s ([option] not assignment)", i+1, file)
			}
			switch k {
			case "signed-by":
				s.signedBy = val
			case "arch":
				s.arch = strings.Split(val, ",")
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// parseDeb822Sources reads stanzas of Types/URIs/Suites/Components/
// Signed-By/Architectures/Enabled fields.
func parseDeb822Sources(file, text string) ([]aptSource, error) {
	var out []aptSource
	for n, stanza := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			if k, val, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
				fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
			}
		}
		if len(fields) == 0 || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		for _, need := range []string{"types", "uris", "suites"} {
			if fields[need] == "" {
				return nil, fmt.Errorf("E: Malformed entry %d in sources file %s (%s)", n+1, file, strings.TrimSuffix(strings.ToUpper(need[:1])+need[1:], "s"))
			}
		}
		if !slices.Contains(strings.Fields(fields["types"]), "deb") {
			continue
		}
		for _, uri := range strings.Fields(fields["uris"]) {
			for _, suite := range strings.Fields(fields["suites"]) {
				s := aptSource{uri: uri, suite: suite, components: strings.Fields(fields["components"]), signedBy: fields["signed-by"], file: file}
				if a := fields["architectures"]; a != "" {
					s.arch = strings.Fields(a)
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// looksLikeKey reports whether b is an OpenPGP public key, armored or
// binary (a public-key packet in either header format).
func looksLikeKey(b []byte) bool {
	if bytes.Contains(b, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		return true
	}
	return len(b) > 0 && (b[0] == 0x99 || b[0] == 0x98 || b[0] == 0xc6)
}

// trusted reports whether apt can check the signatures of s: its
// Signed-By keyring is a key, or (without Signed-By) a key sits in
// /etc/apt/trusted.gpg.d.
func trusted(v *vfs, s aptSource) bool {
	if s.signedBy != "" {
		b, err := v.ReadFile(s.signedBy)
		return err == nil && looksLikeKey(b)
	}
	ents, _ := v.ReadDir("/etc/apt/trusted.gpg.d")
	for _, e := range ents {
		if b, err := v.ReadFile("/etc/apt/trusted.gpg.d/" + e.Name()); err == nil && looksLikeKey(b) {
			return true
		}
	}
	return false
}

// aptUpdate fetches the sources' indexes from the mirror and records the
// third-party repositories it got, in apt-get update's words. It returns
// the exit status.
func (p *proc) aptUpdate(quiet bool) int {
	srcs, notes, err := readAptSources(p.s.fs)
	for _, n := range notes {
		fmt.Fprintln(p.err, n)
	}
	if err != nil {
		fmt.Fprintln(p.err, err)
		return 100
	}
	progress := func(format string, a ...any) {
		if !quiet {
			fmt.Fprintf(p.out, format, a...)
		}
	}
	var warnings, errs []string
	var lists []string
	for i, s := range srcs {
		n := i + 1
		repo, known := findRepo(s.uri)
		switch {
		case !known:
			host := s.uri
			if u, err := url.Parse(s.uri); err == nil && u.Host != "" {
				host = u.Hostname()
			}
			progress("Ign:%d %s %s InRelease\nErr:%d %s %s InRelease\n  Temporary failure resolving '%s'\n", n, s.uri, s.suite, n, s.uri, s.suite, host)
			warnings = append(warnings, fmt.Sprintf("W: Failed to fetch %s/dists/%s/InRelease  Temporary failure resolving '%s'", strings.TrimRight(s.uri, "/"), s.suite, host))
		case !slices.Contains(repo.suites, s.suite):
			progress("Ign:%d %s %s InRelease\nErr:%d %s %s Release\n  404  Not Found\n", n, s.uri, s.suite, n, s.uri, s.suite)
			errs = append(errs, fmt.Sprintf("E: The repository '%s %s Release' does not have a Release file.", s.uri, s.suite))
		case repo.keyID != "" && !trusted(p.s.fs, s):
			why := "The following signatures couldn't be verified because the public key is not available: NO_PUBKEY " + repo.keyID
			progress("Get:%d %s %s InRelease [48.8 kB]\nErr:%d %s %s InRelease\n  %s\n", n, s.uri, s.suite, n, s.uri, s.suite, why)
			warnings = append(warnings, fmt.Sprintf("W: GPG error: %s %s InRelease: %s", s.uri, s.suite, why))
			errs = append(errs, fmt.Sprintf("E: The repository '%s %s InRelease' is not signed.", s.uri, s.suite))
		default:
			progress("Hit:%d %s %s InRelease\n", n, s.uri, s.suite)
			if len(s.arch) == 0 || slices.Contains(s.arch, "amd64") {
				lists = append(lists, repo.name+" "+s.suite)
			}
		}
	}
	progress("Reading package lists... Done\n")
	for _, w := range warnings {
		fmt.Fprintln(p.err, w)
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(p.err, e)
		}
		fmt.Fprintln(p.err, "N: Updating from such a repository can't be done securely, and is therefore disabled by default.\nN: See apt-secure(8) manpage for repository creation and user configuration details.")
	}
	if len(warnings) > 0 && len(errs) == 0 && slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, "W: Failed to fetch") }) {
		fmt.Fprintln(p.err, "W: Some index files failed to download. They have been ignored, or old ones used instead.")
	}
	err = p.s.g.update(func(st *state) error {
		st.AptLists = lists
		return nil
	})
	if err != nil {
		return p.fail("%v", err)
	}
	if len(errs) > 0 {
		return 100
	}
	return 0
}

// hasList reports whether the last update fetched an index of repo.
func (st *state) hasList(repo string) bool {
	return slices.ContainsFunc(st.AptLists, func(l string) bool { return strings.HasPrefix(l, repo+" ") })
}
