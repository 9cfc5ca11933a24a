package relay

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// deafClient is a WebSocket MSRP client that swallows Ping frames and
// never answers bodiless SENDs: a peer that has silently gone away.
type deafClient struct {
	ws    *websocket.Conn
	pings atomic.Int32
	msgs  chan *msrp.Message
	gone  chan struct{}
}

func dialDeaf(t *testing.T, url string) *deafClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"msrp"}}
	ws, _, err := d.Dial(url, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	c := &deafClient{ws: ws, msgs: make(chan *msrp.Message, 16), gone: make(chan struct{})}
	ws.SetPingHandler(func(string) error { c.pings.Add(1); return nil })
	go func() {
		defer close(c.gone)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if m, err := msrp.Parse(b, 0); err == nil {
				select {
				case c.msgs <- m:
				default: // bodiless-SEND probes pile up unanswered
				}
			}
		}
	}()
	t.Cleanup(func() { ws.Close(); <-c.gone })
	return c
}

func (c *deafClient) roundTrip(t *testing.T, m *msrp.Message) *msrp.Message {
	t.Helper()
	b, err := m.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case r := <-c.msgs:
			if r.TransactionID == m.TransactionID {
				return r
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no response")
		}
	}
}

func TestRelayKeepalive(t *testing.T) {
	checkGoroutines(t)
	const (
		interval = 60 * time.Millisecond
		timeout  = 60 * time.Millisecond
		misses   = 2
	)
	r := newTestRelay(t, func(c *Config) {
		c.Transport.Keepalive = keepalive.Config{Interval: interval, Timeout: timeout, Misses: misses}
	})

	// A live client answers Pings (gorilla does) and stays connected.
	live := dialClient(t, r.ws, r.wsURI)
	live.auth(relayUser, relayPass)

	deaf := dialDeaf(t, r.ws)
	self := "msrp://deaf.invalid:2855/d1;ws"
	auth := request("AUTH", r.wsURI, self)
	ch, _ := digest.Parse(deaf.roundTrip(t, auth).WWWAuthenticate())
	auth = request("AUTH", r.wsURI, self)
	auth.Headers = append(auth.Headers, msrp.Header{Name: "Authorization", Value: digestAuthorization("bob", "secret-bob", ch, r.wsURI, "AUTH", 1)})
	ok := deaf.roundTrip(t, auth)
	if ok.StatusCode != 200 {
		t.Fatalf("AUTH: %d", ok.StatusCode)
	}
	deafUse := ok.Header("Use-Path")
	silentSince := time.Now()

	select {
	case <-deaf.gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the relay kept a peer that answers nothing")
	}
	lived := time.Since(silentSince)
	if bound := interval + misses*timeout; lived < interval || lived > bound+time.Second {
		t.Errorf("deaf peer closed after %v, want between %v and %v plus slack", lived, interval, bound)
	}
	if deaf.pings.Load() == 0 {
		t.Error("the relay never sent the deaf peer a Ping")
	}
	if !strings.Contains(r.logBuf.String(), "keepalive") {
		t.Errorf("no log line names the keepalive close:\n%s", r.logBuf.String())
	}

	// Its Use-Path died with it.
	live.sendText(live.use+" "+deafUse+" "+self, []byte("still there?"))
	if resp := live.next(5 * time.Second); resp.StatusCode != 481 {
		t.Fatalf("SEND to the dead peer's session: %d, want 481", resp.StatusCode)
	}
	// The live client was probed, answered, and is still here.
	time.Sleep(5 * interval)
	live.send(request("SEND", live.use, live.uri, "Message-ID", "ka"))
	if resp := live.next(5 * time.Second); resp.StatusCode != 200 {
		t.Fatalf("live client: %d", resp.StatusCode)
	}
	// The transport's counters reach the relay's Stats.
	st := r.srv.Stats()
	if ka := st.Keepalive; ka.ProbesFrames == 0 || ka.Answers == 0 || ka.Timeouts != 1 {
		t.Errorf("keepalive totals %+v: want Ping probes, answers and a timeout", ka)
	}
	if n := st.Closed[transport.ReasonKeepaliveTimeout]; n != 1 {
		t.Errorf("closes by reason %v: want 1 keepalive-timeout", st.Closed)
	}
	if n := st.Open[transport.KindWS]; n != 1 {
		t.Errorf("open connections %v: want the live ws client's", st.Open)
	}
}
