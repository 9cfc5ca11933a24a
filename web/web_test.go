package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/msrpd/msrpd/web"
)

// securityHeaders are the headers every answer of the page handler
// carries, whatever the path.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      web.CSP,
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

// CheckSecurityHeaders fails t when h lacks one of the page's headers.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, v := range securityHeaders {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func TestHandlerServesPageWithSecurityHeaders(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/index.html", "text/html; charset=utf-8", `id="my-path"`},
		{"/app.js", "text/javascript; charset=utf-8", "from './msrp.js'"},
		{"/msrp.js", "text/javascript; charset=utf-8", "export class Client"},
		{"/md5.js", "text/javascript; charset=utf-8", "export function md5"},
		{"/style.css", "text/css; charset=utf-8", "#messages"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
		{"/some/page?x=1", "", ""}, // 404
		{"/msrp.test.js", "", ""},  // tests are not embedded
		{"/web.go", "", ""},
		{"/../go.mod", "", ""},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkSecurityHeaders(t, tc.path, resp.Header)
		if tc.ctype == "" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", tc.path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(string(body), tc.contains) {
			t.Errorf("%s: %d %q, %d bytes; want 200 %q containing %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), tc.ctype, tc.contains)
		}
		if strings.HasSuffix(tc.ctype, "html; charset=utf-8") && strings.Contains(string(body), "<script>") {
			t.Errorf("%s: inline script; the CSP forbids it", tc.path)
		}
	}
	// Revalidation costs a 304; other methods are refused.
	resp, _ := http.Get(srv.URL + "/msrp.js")
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/msrp.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r2, err := http.DefaultClient.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %v %v, want 304", r2.Status, err)
	}
	if r3, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x")); err != nil || r3.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v, want 405", r3.Status, err)
	}
}
