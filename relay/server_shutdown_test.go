package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestShutdownClosesEverythingAndReturns(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	a, b := authedPair(t, r)
	chat(t, a, b, 50)

	// A raw WebSocket client sees the close code.
	d := websocket.Dialer{Subprotocols: []string{"msrp"}}
	ws, _, err := d.Dial(r.ws, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	closeCode := make(chan int, 1)
	go func() {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			closeCode <- ce.Code
		} else {
			closeCode <- -1
		}
	}()
	time.Sleep(50 * time.Millisecond) // let the relay register it

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown of idle connections took %v", d)
	}
	a.expectClosed(2 * time.Second)
	b.expectClosed(2 * time.Second)
	select {
	case code := <-closeCode:
		if code != websocket.CloseGoingAway {
			t.Errorf("WebSocket close code %d, want 1001", code)
		}
	case <-time.After(2 * time.Second):
		t.Error("WebSocket client not closed")
	}
	// No new connections; Shutdown again is harmless.
	if c, err := net.DialTimeout("tcp", r.tcp[len("tcp://"):], time.Second); err == nil {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("a connection after Shutdown was served")
		}
		c.Close()
	}
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if st := r.srv.Stats(); st.Connections != 0 || st.Sessions != 0 {
		t.Errorf("after Shutdown: %+v", st)
	}
}
