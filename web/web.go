// Package web holds msrpd's browser chat page and its JavaScript MSRP
// client (msrp.js), embedded in the binary, and the http.Handler that
// serves them with the security headers a page that holds a password
// needs. The relay serves it on its WebSocket listeners for every request
// that is not a WebSocket handshake (relay.Config.Web).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
	"time"
)

// The page and what it loads; the tests (*.test.js, test/) stay out.
//
//go:embed index.html style.css app.js msrp.js md5.js favicon.svg
var files embed.FS

// contentTypes are set explicitly: the page must not depend on the
// machine's MIME table, and nosniff makes a wrong type fatal for scripts.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// CSP is the page's Content-Security-Policy. Scripts and styles come only
// from the page's own origin (no inline script, no eval). connect-src
// admits WebSocket URLs of other hosts because the login form lets the
// user pick another relay; without a script injection there is nothing to
// send them. Received files are offered as blob: URLs.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the chat page at / and its files by name, to GET and
// HEAD; anything else is 404 (405 for other methods).
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	ct, ok := contentTypes[path.Ext(name)]
	data, err := files.ReadFile(name)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", ct)
	// Revalidate every time: a relay upgrade must not leave an old
	// script talking to a new relay.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag(data))
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// etag names a file's content, so a revalidation costs a 304.
func etag(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}
