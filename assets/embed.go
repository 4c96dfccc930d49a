// Package assets embeds Corral's static files (vendored htmx, CSS, small JS)
// and serves them under content-hashed URLs so browsers may cache them forever.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var embedded embed.FS

// Prefix is where static files are mounted.
const Prefix = "/static/"

type entry struct {
	hash string
	body []byte
	mime string
}

// table is computed once, on first use: file name → hash and contents.
var table = sync.OnceValue(func() map[string]entry {
	m := map[string]entry{}
	_ = fs.WalkDir(embedded, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		m[name] = entry{hash: hex.EncodeToString(sum[:])[:12], body: b, mime: mimeOf(name)}
		return nil
	})
	return m
})

func mimeOf(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// URL returns the cache-busting URL of a static file, e.g.
// "/static/3fa9c0d1e2b4/app.css". An unknown name yields a URL that 404s,
// which a browser test notices.
func URL(name string) string {
	e, ok := table()[name]
	if !ok {
		return Prefix + "missing/" + name
	}
	return Prefix + e.hash + "/" + name
}

// Handler serves "/static/{hash}/{name}". A matching hash is cached for a
// year as immutable; a stale hash still gets the current file but only a
// short cache, so a page from an older binary keeps working.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, Prefix)
		hash, name, ok := strings.Cut(rest, "/")
		e, found := table()[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", e.mime)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if hash == e.hash {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("ETag", `"`+e.hash+`"`)
		if r.Header.Get("If-None-Match") == `"`+e.hash+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(e.body)
	})
}
