package relay

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestWebSocketListenerServesPage checks what the WebSocket listener does
// with requests that are not MSRP handshakes: the page handler gets the
// plain GETs, a handshake without the msrp subprotocol still gets 400,
// and without a page handler plain GETs get 404.
func TestWebSocketListenerServesPage(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the page at "+r.URL.Path) })
	for _, withPage := range []bool{true, false} {
		r := newTestRelay(t, func(c *Config) {
			if withPage {
				c.Web = page
			}
		})
		base := "http" + strings.TrimPrefix(strings.TrimSuffix(r.ws, "/"), "ws")
		resp, err := http.Get(base + "/x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if withPage && (resp.StatusCode != 200 || string(body) != "the page at /x") {
			t.Errorf("with page: %d %q", resp.StatusCode, body)
		}
		if !withPage && resp.StatusCode != http.StatusNotFound {
			t.Errorf("without page: %d, want 404", resp.StatusCode)
		}
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "WebSocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("handshake without subprotocol msrp: %d, want 400", resp.StatusCode)
		}
	}
	// And real MSRP clients still connect: see every WebSocket test.
}
