package transport

import (
	"strings"
	"testing"
	"time"
)

// A WebSocket peer that vanishes (FIN) anywhere in a message, over a real
// socket: inside a frame header, inside the chunk's header block, inside
// a frame's payload after pieces went ahead, or between fragments. The
// connection closes as ReasonPeerClosed, the pieces before the cut were
// delivered, and nothing is left running.
func TestWSPeerVanishes(t *testing.T) {
	leakCheck(t)
	chunk := mustWire(sendReq("gone0001", strings.Repeat("v", 5000)))
	headEnd := strings.Index(string(chunk), "\r\n\r\n") + 4
	tests := []struct {
		name   string
		frames [][]byte // sent, then the socket is closed
		pieces bool     // pieces of the body go ahead before the cut
	}{
		{"before any frame", nil, false},
		{"inside a frame header", [][]byte{wsFrame(0x81, chunk, true)[:3]}, false},
		{"inside the header block", [][]byte{wsFrame(0x01, chunk[:headEnd-10], true)}, false},
		{"inside a payload", [][]byte{wsFrame(0x81, chunk, true)[:headEnd+3000]}, true},
		{"between fragments", [][]byte{wsFrame(0x01, chunk[:headEnd+3000], true)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startWSServer(t, Config{PieceSize: 1024})
			c := dialWSRaw(t, s.url)
			srv := waitConn(t, s.conns)
			c.send(tc.frames...)
			if tc.pieces {
				if f := s.frame(t); f.Err != nil || f.Msg.TransactionID != "gone0001" || len(f.Msg.Body) != 1024 {
					t.Fatalf("first piece %+v, %v", f.Msg, f.Err)
				}
			}
			c.nc.Close()
			waitClosed(t, srv, 2*time.Second)
			if srv.Reason() != ReasonPeerClosed {
				t.Errorf("reason %v, want peer-closed", srv.Reason())
			}
			// Pieces read before the cut may still be queued; none is
			// the chunk's last.
			for {
				select {
				case f := <-s.frames:
					if f.Last {
						t.Errorf("a last piece %+v, %v, from a cut chunk", f.Msg, f.Err)
					}
					continue
				default:
				}
				break
			}
		})
	}
}
