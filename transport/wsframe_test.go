package transport

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
)

// Frames this package writes must read back through a standard WebSocket
// stack in both directions (unmasked from a server, masked from a
// client), with each length encoding and both frame types, held or not.
func TestOwnFramesReadByGorilla(t *testing.T) {
	sizes := []int{0, 1, 90, 120, 126, 1000, 65400, 65536, 200000}
	body := func(n int, binary bool) string {
		b := bytes.Repeat([]byte("x"), n)
		if binary && n > 0 {
			b[0] = 0xff // not UTF-8: a binary frame
		}
		return string(b)
	}

	t.Run("server to client", func(t *testing.T) {
		got := make(serverConns, 1)
		url := startWS(t, Config{Keepalive: keepalive.Config{Interval: -1}}, holdHandler(got, false, nil))
		ws := dialRawWS(t, url)
		ws.SetReadLimit(1 << 20)
		c := waitConn(t, got)
		for _, held := range []bool{false, true} {
			for _, n := range sizes {
				for _, binary := range []bool{false, true} {
					m := sendReq("tid1", body(n, binary))
					if n == 0 {
						m.Body = []byte{}
						m.Headers = append(m.Headers[:3], sendReq("t", "x").Headers[3])
					}
					if held {
						c.Hold()
					}
					if err := c.Send(m); err != nil {
						t.Fatal(err)
					}
					if held {
						c.Release()
					}
					ws.SetReadDeadline(time.Now().Add(5 * time.Second))
					typ, data, err := ws.ReadMessage()
					if err != nil {
						t.Fatalf("size %d held %v: %v", n, held, err)
					}
					if want := wire(t, m); !bytes.Equal(data, want) {
						t.Fatalf("size %d held %v: %d bytes, want %d", n, held, len(data), len(want))
					}
					wantTyp := websocket.TextMessage
					if binary && n > 0 {
						wantTyp = websocket.BinaryMessage
					}
					if typ != wantTyp {
						t.Errorf("size %d binary %v: frame type %d, want %d", n, binary, typ, wantTyp)
					}
				}
			}
		}
	})

	t.Run("client to server", func(t *testing.T) {
		msgs := make(chan []byte, 1)
		up := websocket.Upgrader{Subprotocols: []string{"msrp"}}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			ws.SetReadLimit(1 << 20)
			for {
				// gorilla refuses unmasked client frames: reading them
				// proves the masking.
				_, data, err := ws.ReadMessage()
				if err != nil {
					close(msgs)
					return
				}
				msgs <- data
			}
		}))
		defer srv.Close()
		c, err := testDial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/", Config{Keepalive: keepalive.Config{Interval: -1}}, DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ReasonLocal, "test over")
		for _, n := range sizes {
			m := sendReq("tid2", body(n, n%2 == 0))
			if n == 0 {
				m = sendReq("tid2", "")
			}
			if err := c.Send(m); err != nil {
				t.Fatal(err)
			}
			select {
			case data, ok := <-msgs:
				if !ok {
					t.Fatalf("size %d: the server closed the connection", n)
				}
				if want := wire(t, m); !bytes.Equal(data, want) {
					t.Fatalf("size %d: %d bytes, want %d", n, len(data), len(want))
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("size %d: nothing arrived", n)
			}
		}
	})
}
