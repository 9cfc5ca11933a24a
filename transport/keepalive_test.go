package transport

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
)

// wsPeer is a raw gorilla client that answers or ignores Pings and
// bodiless SENDs as told, and counts them.
type wsPeer struct {
	ws          *websocket.Conn
	pings       atomic.Int32
	sends       atomic.Int32
	firstPingAt atomic.Int64
}

func runWSPeer(t *testing.T, url string, answerPing, answerSend bool) *wsPeer {
	p := &wsPeer{ws: dialRawWS(t, url)}
	p.ws.SetPingHandler(func(data string) error {
		if p.pings.Add(1) == 1 {
			p.firstPingAt.Store(time.Now().UnixNano())
		}
		if !answerPing {
			return nil // drop it: a peer whose Pongs never come
		}
		return p.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			_, b, err := p.ws.ReadMessage()
			if err != nil {
				return
			}
			m, err := msrp.Parse(b, 0)
			if err != nil || m.Method != msrp.MethodSEND {
				continue
			}
			p.sends.Add(1)
			if answerSend {
				out, _ := m.Response(200, "OK").AppendTo(nil)
				_ = p.ws.WriteMessage(websocket.TextMessage, out)
			}
		}
	}()
	return p
}

// Proof 1: an idle WebSocket peer that answers Pings gets them at about
// Interval and stays connected for at least 10 intervals.
func TestProofIdleWebSocketPinged(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 1)
	url := startWS(t, Config{Keepalive: fastKeepalive()}, holdHandler(got, true, nil))
	start := time.Now()
	p := runWSPeer(t, url, true, true)
	c := waitConn(t, got)
	time.Sleep(12 * kaInterval)
	select {
	case <-c.Done():
		t.Fatalf("live peer closed: %v", c.Reason())
	default:
	}
	if n := p.pings.Load(); n < 5 || n > 13 {
		t.Errorf("%d pings in 12 intervals, want about 12 (5..13)", n)
	}
	if first := time.Unix(0, p.firstPingAt.Load()).Sub(start); first < kaInterval {
		t.Errorf("first ping after %v, before the interval %v", first, kaInterval)
	}
	st := c.Stats()
	if st.ProbesFrames == 0 || st.ProbesSend != 0 || st.Misses != 0 || st.Answers+1 < st.ProbesFrames {
		t.Errorf("stats %+v", st)
	}
	p.ws.Close()
	waitClosed(t, c, time.Second)
}

// Proof 2: a WebSocket peer that drops Pings is closed within
// Interval + Misses×Timeout (+ slack) with reason keepalive-timeout.
func TestProofDeadWebSocketClosed(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 1)
	var logs logBuffer
	cfg := Config{Keepalive: fastKeepalive(), LoggerFactory: testLogger(&logs)}
	url := startWS(t, cfg, holdHandler(got, false, nil))
	p := runWSPeer(t, url, false, false)
	c := waitConn(t, got)
	start := time.Now()
	bound := kaInterval + 2*kaTimeout
	at := waitClosed(t, c, bound+slack)
	if d := at.Sub(start); d < kaInterval+kaTimeout {
		t.Errorf("closed after %v, too early for the bound %v", d, bound)
	}
	if c.Reason() != ReasonKeepaliveTimeout {
		t.Errorf("reason %v, want keepalive-timeout", c.Reason())
	}
	if st := c.Stats(); st.Misses != 2 || st.Timeouts != 1 {
		t.Errorf("stats %+v", st)
	}
	if p.pings.Load() == 0 {
		t.Error("peer never saw a ping")
	}
	waitLog(t, &logs, "closed ws connection with "+p.ws.LocalAddr().String()+": keepalive-timeout")
}

// tcpPeer reads a TCP connection with a raw tee, answering bodiless
// SENDs when told.
func runTCPPeer(t *testing.T, addr string, answer bool) (net.Conn, *bytes.Buffer, chan *msrp.Message) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	var raw bytes.Buffer
	probes := make(chan *msrp.Message, 100)
	go func() {
		br := bufio.NewReader(nc)
		rd := msrp.NewReader(io.TeeReader(br, &lockedWriter{w: &raw}), 0)
		for {
			m, err := rd.ReadHeader()
			if err != nil {
				return
			}
			if m.Method == msrp.MethodSEND && m.Body == nil {
				select {
				case probes <- m:
				default:
				}
				if answer {
					out, _ := m.Response(200, "OK").AppendTo(nil)
					_, _ = nc.Write(out)
				}
			}
		}
	}()
	return nc, &raw, probes
}

type lockedWriter struct{ w *bytes.Buffer }

func (l *lockedWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

// Proof 3: a TCP peer that answers bodiless SENDs stays up 10 intervals;
// one that answers nothing is closed within the bound. The probe is
// checked byte for byte.
func TestProofTCPBodilessSend(t *testing.T) {
	leakCheck(t)
	t.Run("answering peer stays", func(t *testing.T) {
		got := make(serverConns, 1)
		addr := startStream(t, Config{Keepalive: fastKeepalive()}, holdHandler(got, true, nil))
		nc, _, probes := runTCPPeer(t, addr, true)
		c := waitConn(t, got)
		var first *msrp.Message
		select {
		case first = <-probes:
		case <-time.After(time.Second):
			t.Fatal("no probe")
		}
		want := "MSRP " + first.TransactionID + " SEND\r\n" +
			"To-Path: msrp://" + nc.LocalAddr().String() + ";tcp\r\n" +
			"From-Path: msrp://" + addr + ";tcp\r\n" +
			"Message-ID: " + first.MessageID() + "\r\n" +
			"Byte-Range: 1-0/0\r\n" +
			"-------" + first.TransactionID + "$\r\n"
		if b := wire(t, first); string(b) != want {
			t.Errorf("probe re-encoded =\n%q\nwant\n%q", b, want)
		}
		time.Sleep(10 * kaInterval)
		select {
		case <-c.Done():
			t.Fatalf("answering peer closed: %v", c.Reason())
		default:
		}
		if st := c.Stats(); st.ProbesSend < 4 || st.Misses != 0 || st.Answers+1 < st.ProbesSend {
			t.Errorf("stats %+v", st)
		}
		nc.Close()
		waitClosed(t, c, time.Second)
	})
	t.Run("silent peer closed", func(t *testing.T) {
		got := make(serverConns, 1)
		addr := startStream(t, Config{Keepalive: fastKeepalive()}, holdHandler(got, true, nil))
		_, _, _ = runTCPPeer(t, addr, false)
		c := waitConn(t, got)
		start := time.Now()
		waitClosed(t, c, kaInterval+2*kaTimeout+slack)
		if d := time.Since(start); d < kaInterval+kaTimeout || c.Reason() != ReasonKeepaliveTimeout {
			t.Errorf("closed after %v with %v", d, c.Reason())
		}
	})
}

// TestProbeBytesOnWire checks the probe as it crosses the socket, not
// re-encoded.
func TestProbeBytesOnWire(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 1)
	cfg := Config{Keepalive: fastKeepalive(), LocalURI: "msrp://relay.example:2855;tcp"}
	addr := startStream(t, cfg, holdHandler(got, true, nil))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := waitConn(t, got)
	_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(nc)
	var raw []byte
	for !bytes.HasSuffix(raw, []byte("$\r\n")) {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	m, err := msrp.Parse(raw, 0)
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	tid := m.TransactionID
	want := "MSRP " + tid + " SEND\r\nTo-Path: msrp://" + nc.LocalAddr().String() + ";tcp\r\n" +
		"From-Path: msrp://relay.example:2855;tcp\r\nMessage-ID: " + m.MessageID() + "\r\n" +
		"Byte-Range: 1-0/0\r\n-------" + tid + "$\r\n"
	if string(raw) != want {
		t.Fatalf("probe on the wire =\n%q\nwant\n%q", raw, want)
	}
	nc.Close()
	waitClosed(t, c, time.Second)
}

// Proof 4: traffic every Interval/2 means zero probes.
func TestProofTrafficMeansNoProbes(t *testing.T) {
	leakCheck(t)
	// Interval/2 spacing must survive -race on a shared 2-core machine.
	const interval = 150 * time.Millisecond
	ka := keepalive.Config{Interval: interval, Timeout: interval}
	for _, kind := range []string{"ws", "tcp"} {
		t.Run(kind, func(t *testing.T) {
			got := make(serverConns, 1)
			var cl *Conn
			var err error
			if kind == "ws" {
				url := startWS(t, Config{Keepalive: ka}, holdHandler(got, true, nil))
				cl, err = testDial(t.Context(), url, Config{Keepalive: keepalive.Config{Mode: keepalive.ModeOff}}, DialOptions{})
			} else {
				addr := startStream(t, Config{Keepalive: ka}, holdHandler(got, true, nil))
				cl, err = testDial(t.Context(), "tcp://"+addr, Config{Keepalive: keepalive.Config{Mode: keepalive.ModeOff}}, DialOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				for {
					if _, err := cl.Read(); err != nil {
						return
					}
				}
			}()
			c := waitConn(t, got)
			for i := 0; i < 20; i++ {
				if err := cl.Send(sendReq("traffic"+string(rune('a'+i)), "")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(interval / 2)
			}
			if st := c.Stats(); st.ProbesFrames+st.ProbesSend != 0 {
				t.Errorf("server probed a busy connection: %+v", st)
			}
			if st := c.Stats(); st.BodilessSends != 20 {
				t.Errorf("bodiless SENDs counted %d, want 20", st.BodilessSends)
			}
			cl.Close(ReasonShutdown, "test done")
			waitClosed(t, c, time.Second)
		})
	}
}

// Proof 5: mode auto, a WebSocket peer that ignores Pings but answers
// bodiless SENDs: switched once to SEND probing, and stays up.
func TestProofAutoSwitch(t *testing.T) {
	leakCheck(t)
	got := make(serverConns, 1)
	var logs logBuffer
	h := newHost(t, Config{Keepalive: fastKeepalive(), LoggerFactory: testLogger(&logs)})
	url := serveWS(t, h, holdHandler(got, true, nil))
	p := runWSPeer(t, url, false, true)
	c := waitConn(t, got)
	time.Sleep(14 * kaInterval)
	select {
	case <-c.Done():
		t.Fatalf("closed: %v", c.Reason())
	default:
	}
	st := c.Stats()
	if st.ModeSwitches != 1 || st.ProbesSend < 3 || st.ProbesFrames != 1 {
		t.Errorf("stats %+v, want 1 switch after 1 ping, then SENDs", st)
	}
	if h.Stats().Keepalive.ModeSwitches != 1 {
		t.Errorf("totals %+v", h.Stats().Keepalive)
	}
	if p.sends.Load() < 3 {
		t.Errorf("peer saw %d SENDs", p.sends.Load())
	}
	waitLog(t, &logs, "switching to bodiless SEND")
	p.ws.Close()
	waitClosed(t, c, time.Second)
}

// Proof 6: floods of Pings or bodiless SENDs close the connection with
// reason flood; a sane rate does not.
func TestProofFlood(t *testing.T) {
	leakCheck(t)
	tests := []struct {
		name      string
		n         int
		every     time.Duration
		pings     bool
		wantFlood bool
	}{
		{"ping flood", 200, 0, true, true},
		{"bodiless SEND flood", 200, 0, false, true},
		{"pings at a sane rate", 15, 40 * time.Millisecond, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make(serverConns, 1)
			var logs logBuffer
			cfg := Config{Keepalive: keepalive.Config{FloodRate: 50, FloodBurst: 5}, LoggerFactory: testLogger(&logs)}
			url := startWS(t, cfg, holdHandler(got, false, nil))
			ws := dialRawWS(t, url)
			go func() {
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
			c := waitConn(t, got)
			for i := 0; i < tc.n; i++ {
				var err error
				if tc.pings {
					err = ws.WriteControl(websocket.PingMessage, []byte("x"), time.Now().Add(time.Second))
				} else {
					err = ws.WriteMessage(websocket.TextMessage, wire(t, sendReq("flood"+itoa(i), "")))
				}
				if err != nil {
					break // closed under us: the flood was detected
				}
				time.Sleep(tc.every)
			}
			if tc.wantFlood {
				waitClosed(t, c, time.Second)
				if c.Reason() != ReasonFlood || c.Stats().Floods != 1 {
					t.Errorf("reason %v stats %+v", c.Reason(), c.Stats())
				}
				waitLog(t, &logs, ": flood (")
				return
			}
			time.Sleep(50 * time.Millisecond)
			if c.Reason() != ReasonNone || c.Stats().PingsAnswered != uint64(tc.n) {
				t.Errorf("sane peer: reason %v stats %+v", c.Reason(), c.Stats())
			}
			ws.Close()
			waitClosed(t, c, time.Second)
		})
	}
}

func itoa(i int) string { return string(rune('a'+i/26%26)) + string(rune('a'+i%26)) }
