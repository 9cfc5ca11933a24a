package transport

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/msrp"
)

// Proof 7: a handshake without msrp is refused; text and binary frames
// both parse; a message holding two chunks is rejected with 400.
func TestProofWebSocketFraming(t *testing.T) {
	leakCheck(t)
	t.Run("no msrp subprotocol refused", func(t *testing.T) {
		var logs logBuffer
		url := startWS(t, Config{LoggerFactory: testLogger(&logs)}, holdHandler(nil, false, nil))
		for _, offered := range [][]string{nil, {"sip"}} {
			d := websocket.Dialer{Subprotocols: offered}
			ws, resp, err := d.Dial(url, nil)
			if err == nil {
				ws.Close()
				t.Fatalf("offered %q: upgrade succeeded", offered)
			}
			if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Errorf("offered %q: err %v resp %v, want HTTP 400", offered, err, resp)
			}
		}
		waitLog(t, &logs, "refused WebSocket handshake from 127.0.0.1:")
		c, err := testDial(t.Context(), url, Config{}, DialOptions{})
		if err != nil {
			t.Fatalf("msrp client refused: %v", err)
		}
		if c.Kind() != KindWS {
			t.Errorf("kind %v", c.Kind())
		}
		c.Close(ReasonLocal, "test done")
	})

	tests := []struct {
		name     string
		typ      int
		data     []byte
		wantBody string
		wantCode int // of Frame.Err, 0 = none
	}{
		{"text frame", websocket.TextMessage, mustWire(sendReq("tid0001", "hello")), "hello", 0},
		{"binary frame", websocket.BinaryMessage, mustWire(sendReq("tid0002", "\x00\xffbin")), "\x00\xffbin", 0},
		{"invalid UTF-8 in a text frame", websocket.TextMessage, mustWire(sendReq("tid0003", "\xc3\x28")), "\xc3\x28", 0},
		{"bodiless SEND", websocket.TextMessage, mustWire(sendReq("tid0004", "")), "", 0},
		{"two chunks in one message", websocket.TextMessage,
			append(mustWire(sendReq("tid0005", "one")), mustWire(sendReq("tid0006", "two"))...), "", 400},
	}
	frames := make(chan Frame, 10)
	url := startWS(t, Config{}, holdHandler(nil, false, frames))
	ws := dialRawWS(t, url)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ws.WriteMessage(tc.typ, tc.data); err != nil {
				t.Fatal(err)
			}
			var f Frame
			select {
			case f = <-frames:
			case <-time.After(2 * time.Second):
				t.Fatal("no frame")
			}
			var pe *msrp.ParseError
			switch {
			case tc.wantCode != 0:
				if !errors.As(f.Err, &pe) || pe.Code != tc.wantCode || f.Msg.TransactionID != "tid0005" {
					t.Fatalf("Frame.Err = %v (tid %s), want code %d", f.Err, f.Msg.TransactionID, tc.wantCode)
				}
			case f.Err != nil:
				t.Fatalf("Frame.Err = %v", f.Err)
			case string(f.Msg.Body) != tc.wantBody || !f.Last || f.Msg.Flag != msrp.FlagComplete:
				t.Fatalf("frame body %q last %v flag %q, want %q", f.Msg.Body, f.Last, f.Msg.Flag, tc.wantBody)
			case tc.wantBody == "" && f.Msg.Body != nil:
				t.Fatal("bodiless SEND delivered with a body")
			}
		})
	}
}

func mustWire(m *msrp.Message) []byte {
	b, err := m.AppendTo(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func TestWebSocketPiecesAndSendFrameType(t *testing.T) {
	leakCheck(t)
	frames := make(chan Frame, 16)
	got := make(serverConns, 1)
	url := startWS(t, Config{PieceSize: 4}, holdHandler(got, false, frames))
	ws := dialRawWS(t, url)
	if err := ws.WriteMessage(websocket.BinaryMessage, mustWire(sendReq("tid0007", "0123456789"))); err != nil {
		t.Fatal(err)
	}
	var body []byte
	var offsets []int64
	for f := range frames {
		body = append(body, f.Msg.Body...)
		offsets = append(offsets, f.Offset)
		if f.Last {
			break
		}
	}
	if string(body) != "0123456789" || len(offsets) != 3 || offsets[2] != 8 {
		t.Fatalf("pieces %q at %v", body, offsets)
	}
	c := waitConn(t, got)
	for _, tc := range []struct {
		body string
		want int
	}{{"plain text", websocket.TextMessage}, {"\xff\xfe", websocket.BinaryMessage}} {
		if err := c.Send(sendReq("tid0008", tc.body)); err != nil {
			t.Fatal(err)
		}
		typ, _, err := ws.ReadMessage()
		if err != nil || typ != tc.want {
			t.Errorf("Send(%q): frame type %d, %v; want %d", tc.body, typ, err, tc.want)
		}
	}
	ws.Close()
	waitClosed(t, c, time.Second)
}

func TestWebSocketOrigins(t *testing.T) {
	leakCheck(t)
	tests := []struct {
		name    string
		allowed []string
		origin  string
		wantOK  bool
	}{
		{"no origin", nil, "", true},
		{"cross origin refused by default", nil, "https://evil.example", false},
		{"listed origin", []string{"https://app.example"}, "https://app.example", true},
		{"unlisted origin", []string{"https://app.example"}, "https://other.example", false},
		{"any", []string{"*"}, "https://other.example", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := startWS(t, Config{AllowedOrigins: tc.allowed}, holdHandler(nil, false, nil))
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			d := websocket.Dialer{Subprotocols: []string{"msrp"}}
			ws, resp, err := d.Dial(url, h)
			if (err == nil) != tc.wantOK {
				t.Fatalf("dial err %v, want ok=%v", err, tc.wantOK)
			}
			if err == nil {
				if tc.origin != "" && resp.Header.Get("Access-Control-Allow-Origin") != tc.origin {
					t.Errorf("Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
				}
				ws.Close()
			}
		})
	}
	if _, err := New(Config{AllowedOrigins: []string{"app.example"}}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("New(bad origin) = %v, want ErrBadConfig", err)
	}
}
