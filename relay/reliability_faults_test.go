package relay

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msrpd/msrpd/internal/faultproxy"
	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/transport"
)

// Fault tests (issue 6, "Faults"): every one runs over real loopback
// sockets, with a faultproxy between the relay and the faulty peer where
// the fault is in the network.

// TestReliabilityDeadPeerBlackholed: a receiver vanishes without a FIN
// (the proxy blackholes both directions) while two senders have chunks in
// flight to it. The relay must notice within Interval + Misses×Timeout,
// invalidate the receiver's session, send every sender a failure REPORT
// for each chunk it accepted and did not get answered, and release the
// connection's goroutines.
func TestReliabilityDeadPeerBlackholed(t *testing.T) {
	checkGoroutines(t)
	const (
		interval = 100 * time.Millisecond
		timeout  = 100 * time.Millisecond
		misses   = 2
		slack    = 1500 * time.Millisecond // a loaded 2-core machine under -race
	)
	r := newTestRelay(t, func(c *Config) {
		c.Transport.Keepalive = keepalive.Config{Interval: interval, Timeout: timeout, Misses: misses}
	})
	px := newFaultProxy(t, r.ws, 0)
	// The receiver answers Pings (gorilla does) until the blackhole.
	b := dialClient(t, "ws://"+px.Addr()+"/", r.wsURI)
	b.auth("bob", "secret-bob")
	// WebSocket senders answer the relay's Pings by themselves; a TCP
	// client would have to answer bodiless-SEND probes while the test
	// waits on the other sender.
	senders := []*client{dialClient(t, r.ws, r.wsURI), dialClient(t, r.ws, r.wsURI)}
	for _, a := range senders {
		a.auth(relayUser, relayPass)
	}
	known := map[string]bool{}
	for _, a := range senders {
		known[a.conn.LocalAddr().String()] = true
	}
	bAddr := ""
	for addr := range peerAddrs(r.srv) {
		if !known[addr] {
			bAddr = addr
		}
	}
	sessionsBefore := r.srv.Stats().Sessions

	// Chunks the receiver takes but never answers: in flight at the relay.
	type sent struct {
		a         *client
		msgID, br string
	}
	var inflight []sent
	send := func(a *client, i int) {
		body := []byte(fmt.Sprintf("chunk %d from %s", i, a.uri))
		m := a.sendText(pathTo(a, b), body)
		inflight = append(inflight, sent{a, m.MessageID(), m.Header("Byte-Range")})
	}
	for i := 0; i < 3; i++ {
		for _, a := range senders {
			send(a, i)
		}
	}
	for range inflight {
		b.next(5 * time.Second)
	}
	for _, a := range senders {
		for i := 0; i < 3; i++ {
			if m := a.next(5 * time.Second); m.StatusCode != 200 {
				t.Fatalf("before the fault: %s %d, want 200", m.Method, m.StatusCode)
			}
		}
	}

	px.Blackhole(faultproxy.Both)
	// More chunks go out into the void; the relay cannot tell yet.
	for i := 3; i < 5; i++ {
		for _, a := range senders {
			send(a, i)
		}
	}
	lastTraffic := time.Now()

	// Every sender gets its 200s and then one failure REPORT per chunk.
	var detected time.Duration
	for _, a := range senders {
		want := map[string]string{}
		for _, s := range inflight {
			if s.a == a {
				want[s.msgID] = s.br
			}
		}
		oks := 0
		for len(want) > 0 || oks < 2 {
			m := a.next(5 * time.Second)
			if !m.IsRequest() {
				if m.StatusCode != 200 {
					t.Fatalf("response %d, want the relay's 200", m.StatusCode)
				}
				oks++
				continue
			}
			if m.Method == "SEND" && m.Body == nil {
				a.send(m.Response(200, "OK")) // a keepalive probe (TCP)
				continue
			}
			st, err := m.Status()
			br, ok := want[m.MessageID()]
			if m.Method != "REPORT" || err != nil || st.Code != 408 || !ok || m.Header("Byte-Range") != br {
				t.Fatalf("got %s %q for %q range %q, want a 408 REPORT for one of %v", m.Method, m.Header("Status"), m.MessageID(), m.Header("Byte-Range"), want)
			}
			if detected == 0 {
				detected = time.Since(lastTraffic)
			}
			delete(want, m.MessageID())
		}
	}
	bound := interval + misses*timeout
	t.Logf("dead peer detected %v after the last traffic (bound %v + %v slack)", detected, bound, slack)
	if detected < interval || detected > bound+slack {
		t.Errorf("detected after %v, want between %v and %v (+%v)", detected, interval, bound, slack)
	}
	if !waitFor(2*time.Second, func() bool { return r.srv.Stats().Sessions == sessionsBefore-1 }) {
		t.Errorf("sessions %d, want %d: the dead peer's session lives on", r.srv.Stats().Sessions, sessionsBefore-1)
	}
	// Its session is gone: the next SEND is refused with 481.
	a := senders[0]
	a.sendText(pathTo(a, b), []byte("anyone?"))
	if m := a.next(5 * time.Second); m.StatusCode != 481 {
		t.Fatalf("SEND to the dead session: %s %d, want 481", m.Method, m.StatusCode)
	}
	log := r.logBuf.String()
	if !strings.Contains(log, bAddr+": keepalive-timeout") {
		t.Errorf("no log line names the dead peer %s and the reason:\n%s", bAddr, log)
	}
	if peerAddrs(r.srv)[bAddr] {
		t.Error("the relay still tracks the dead peer")
	}
}

// pairRate measures how many body bytes per second a can push to b
// (answered end to end) during d, with a window of outstanding SENDs.
func pairRate(t *testing.T, a, b *client, d time.Duration) float64 {
	t.Helper()
	recv := startReceiver(b)
	load := startLoad(a, pathTo(a, b), 4<<10, 16)
	start := time.Now()
	time.Sleep(d)
	n := recv.bytes.Load()
	elapsed := time.Since(start)
	load.halt()
	// Let the last chunks land before the next measurement starts.
	waitFor(5*time.Second, func() bool {
		return int64(len(load.snapshot())) == recv.n.Load()
	})
	recv.silent.Store(true)
	return float64(n) / elapsed.Seconds()
}

// TestReliabilitySlowConsumer: a receiver reads at ~10 KB/s (a throttled
// proxy with small socket buffers) while its sender blasts. The sender is
// slowed down, not dropped; the relay's heap stays under 4 MiB above its
// idle level; a second, fast pair keeps at least half the throughput it
// had without the slow pair; and once the receiver catches up, every
// chunk arrives.
func TestReliabilitySlowConsumer(t *testing.T) {
	checkGoroutines(t)
	const (
		rate      = 10 << 10
		heapBound = 4 << 20
	)
	r := newTestRelay(t, nil)
	// Kernel-default socket buffers: tiny ones on loopback (64 KiB MSS)
	// stall TCP in zero-window probing, which is not what a slow reader
	// looks like.
	px := newFaultProxy(t, r.tcp, 0)
	px.Throttle(faultproxy.Down, rate)
	slowA, slowB := dialClient(t, r.tcp, r.uri), dialClient(t, "tcp://"+px.Addr(), r.uri)
	slowA.auth(relayUser, relayPass)
	slowB.auth("bob", "secret-bob")

	// Unloaded: measured by pairs of their own, so each has fresh readers.
	fastA, fastB := dialClient(t, r.ws, r.wsURI), dialClient(t, r.tcp, r.uri)
	fastA.auth(relayUser, relayPass)
	fastB.auth("bob", "secret-bob")
	unloaded := pairRate(t, fastA, fastB, time.Second)

	// The relay's memory for the slow pair: live heap (after GC) from the
	// start of the blast through a second of throttled steady state,
	// before the fast pair adds its own traffic and bookkeeping.
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak := watchHeap()
	slowRecv := startReceiver(slowB)
	slow := startLoad(slowA, pathTo(slowA, slowB), 8<<10, 0)
	blastStart := time.Now()
	// The sender first fills the socket buffers at full speed; compare
	// the fast pair against the steady state that follows.
	prev := int64(-1)
	waitFor(10*time.Second, func() bool {
		time.Sleep(200 * time.Millisecond)
		n := slow.sentB.Load()
		steady := n-prev < 256<<10
		prev = n
		return steady
	})
	t.Logf("slow sender throttled after %v, %d KiB in socket buffers and the relay", time.Since(blastStart).Round(time.Millisecond), slow.sentB.Load()>>10)
	time.Sleep(time.Second)
	grown := int64(peak()) - int64(base.HeapAlloc)

	loadedPair := func() float64 {
		c, d := dialClient(t, r.ws, r.wsURI), dialClient(t, r.tcp, r.uri)
		c.auth(relayUser, relayPass)
		d.auth("bob", "secret-bob")
		return pairRate(t, c, d, time.Second)
	}
	loaded := loadedPair()
	if loaded/unloaded < 0.6 {
		// One retry: other processes share the two cores.
		t.Logf("fast pair beside the slow one: %.1f MB/s on the first try", loaded/1e6)
		loaded = max(loaded, loadedPair())
	}

	s1 := slow.sentB.Load()
	time.Sleep(time.Second)
	s2 := slow.sentB.Load()
	blast := time.Since(blastStart)

	ratio := loaded / unloaded
	t.Logf("fast pair: %.1f MB/s unloaded, %.1f MB/s beside the slow pair (ratio %.2f)", unloaded/1e6, loaded/1e6, ratio)
	t.Logf("slow pair: sender pushed %d KiB in %v, %d KiB in the last second; receiver got %d KiB",
		s2>>10, blast.Round(time.Millisecond), (s2-s1)>>10, slowRecv.bytes.Load()>>10)
	// The race detector slows every goroutine several times over, so the
	// two pairs compete for CPU, not for the relay: the 50% bound is
	// checked in the plain build (make test runs this test without -race
	// too), under -race only a collapse is.
	want := 0.5
	if raceEnabled {
		want = 0.25
	}
	if ratio < want {
		t.Errorf("fast pair throughput fell to %.0f%% beside a slow consumer, want at least %.0f%%", ratio*100, want*100)
	}
	// Throttled: in the last second the sender moves at the consumer's
	// pace (plus socket buffer slack), nowhere near loopback speed.
	if s2-s1 > 1<<20 {
		t.Errorf("sender pushed %d KiB in one second to a %d KiB/s consumer: not throttled", (s2-s1)>>10, rate>>10)
	}
	if reason := slowA.conn.Reason(); reason != transport.ReasonNone {
		t.Errorf("sender closed (%v): it must be slowed, not dropped", reason)
	}
	if reason := slowB.conn.Reason(); reason != transport.ReasonNone {
		t.Errorf("slow receiver closed (%v)", reason)
	}
	switch {
	case raceEnabled:
		t.Logf("heap bound not checked under the race detector (grew %.1f MiB)", float64(grown)/(1<<20))
	case grown > heapBound:
		t.Errorf("heap grew by %.1f MiB with a slow consumer, bound %d MiB", float64(grown)/(1<<20), heapBound>>20)
	default:
		t.Logf("heap grew by at most %.2f MiB with a slow consumer (bound %d MiB)", float64(grown)/(1<<20), heapBound>>20)
	}

	// Lift the throttle: everything the sender got a 200 for arrives.
	slow.signal()
	px.Throttle(faultproxy.Down, 0)
	slow.halt()
	if !waitFor(20*time.Second, func() bool {
		a, _ := settle(slow, slowRecv)
		return a.delivered == a.sent
	}) {
		a, _ := settle(slow, slowRecv)
		t.Fatalf("after the throttle: %v", a)
	}
	a, _ := settle(slow, slowRecv)
	t.Logf("slow pair after catching up: %v", a)
	if slow.sendErr != nil {
		t.Errorf("sender's Send failed: %v", slow.sendErr)
	}
}

// TestReliabilitySlowConsumerOutlivesWriteTimeout: a receiver that reads
// steadily at 10 KB/s is slow, not dead. Each 2 KiB chunk needs a fifth of
// a second of its pace, far below the relay's WriteTimeout (1 s here), so
// the relay must keep it (and throttle its sender) for as long as it
// reads. Write deadlines measured per whole chunk against a kernel send
// buffer that the kernel grows to megabytes close it instead.
func TestReliabilitySlowConsumerOutlivesWriteTimeout(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, func(c *Config) { c.Transport.WriteTimeout = 2 * time.Second })
	// The reader's socket has a 16 KiB receive buffer. A TCP receiver
	// reopens a closed window only once half its buffer is free, so the
	// sender sees no progress for bufsize/2/rate: 0.8 s here, well under
	// the 2 s WriteTimeout. With the kernel's autotuned megabytes that is
	// minutes, and no sender can tell such a reader from a dead one.
	px := newFaultProxy(t, r.tcp, 16<<10)
	px.Throttle(faultproxy.Down, 10<<10)
	a, b := dialClient(t, r.tcp, r.uri), dialClient(t, "tcp://"+px.Addr(), r.uri)
	a.auth(relayUser, relayPass)
	b.auth("bob", "secret-bob")
	recv := startReceiver(b)
	load := startLoad(a, pathTo(a, b), 2<<10, 0)
	time.Sleep(4 * time.Second)
	got := recv.bytes.Load()
	load.signal()
	px.Throttle(faultproxy.Down, 0)
	load.halt()
	t.Logf("receiver took %d KiB in 4 s; sender pushed %d KiB", got>>10, load.sentB.Load()>>10)
	if got < 10<<10 {
		t.Errorf("receiver got %d bytes in 4 s at 10 KB/s", got)
	}
	if log := r.logBuf.String(); strings.Contains(log, "slow-consumer") {
		t.Errorf("a receiver reading steadily at 10 KB/s was closed as a slow consumer with WriteTimeout 2s:\n%s",
			grepLines(log, "slow-consumer"))
	}
}

// TestReliabilityShutdownUnderLoad: Shutdown while three pairs blast. For
// every chunk a sender wrote, the outcome must be known to it: delivered,
// failed explicitly (error response or failure REPORT), or never
// acknowledged (its connection closed before the relay's 200). A 200 for a
// chunk that never arrived and was never reported is a silent loss.
func TestReliabilityShutdownUnderLoad(t *testing.T) {
	checkGoroutines(t)
	r := newTestRelay(t, nil)
	type pair struct {
		s *loadSender
		r *loadReceiver
	}
	var pairs []pair
	for _, kinds := range [][2]string{{"tcp", "tcp"}, {"ws", "tcp"}, {"tcp", "ws"}} {
		dial := func(kind string) *client {
			if kind == "ws" {
				return dialClient(t, r.ws, r.wsURI)
			}
			return dialClient(t, r.tcp, r.uri)
		}
		a, b := dial(kinds[0]), dial(kinds[1])
		a.auth(relayUser, relayPass)
		b.auth("bob", "secret-bob")
		pairs = append(pairs, pair{r: startReceiver(b), s: startLoad(a, pathTo(a, b), 2<<10, 64)})
	}
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := r.srv.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown under load took %v: %v", took, err)
	if took > 4*time.Second {
		t.Errorf("Shutdown took %v with a 3s context", took)
	}
	for i, p := range pairs {
		p.s.halt()
		<-p.s.rdone
		<-p.r.done
		a, lost := settle(p.s, p.r)
		t.Logf("pair %d: %v", i, a)
		if a.sent == 0 || a.delivered == 0 {
			t.Errorf("pair %d: %v: no load before the shutdown", i, a)
		}
		for _, o := range lost {
			t.Logf("pair %d: chunk %s (tid %s) got 200 from the relay, never arrived and was never reported", i, o.msgID, o.tid)
		}
		if len(lost) > 0 {
			t.Errorf("Shutdown lost %d chunks of pair %d silently", len(lost), i)
		}
	}
}

// TestReliabilityChainNextHopDies: a two-relay chain (A -> R1 -> R2 -> B)
// loses R2 mid-transfer. Every chunk R1 accepted (200 to A) and R2 did not
// acknowledge must come back to A as a failure REPORT; chunks A was not
// answered for are A's to resend.
//
//   - "link cut": the R1-R2 connection is reset (a faultproxy between
//     them), R2 lives on: nothing may be lost, since every chunk R2
//     acknowledged it also delivers.
//   - "R2 closed": R2 is closed abruptly (Close, as a kill would): chunks
//     R2 had acknowledged but not yet written to B die with it, and only
//     end-to-end Success-Reports could reveal them (RFC 4976 section 6.4.1:
//     a hop's 200 means received, not delivered); they are counted, not
//     failed.
func TestReliabilityChainNextHopDies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		strict bool
	}{
		{"link cut", true},
		{"R2 closed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			ca := testpki.NewCA(t)
			r1 := newTLSRelay(t, ca, "relay1.test")
			r2, px := newProxiedTLSRelay(t, ca, "relay2.test")
			a, b := dialClient(t, r1.ws, r1.wsURI), dialClient(t, r2.ws, r2.wsURI)
			a.auth(relayUser, relayPass)
			b.auth("bob", "secret-bob")
			recv := startReceiver(b)
			load := startLoad(a, a.use+" "+b.use+" "+b.uri, 2<<10, 32)
			if !waitFor(5*time.Second, func() bool { return recv.n.Load() >= 50 }) {
				t.Fatalf("no traffic through the chain: %d chunks", recv.n.Load())
			}
			// Hold R1's chunks in the proxy for a moment first, so that
			// some are surely in flight, unanswered, when R2 goes away
			// (without it, the fault may fall between two round trips).
			px.Blackhole(faultproxy.Up)
			time.Sleep(100 * time.Millisecond)
			if tc.strict {
				px.Cut()
			} else {
				r2.srv.Close()
			}
			px.Resume(faultproxy.Up) // for R1's next connection
			time.Sleep(300 * time.Millisecond)
			load.halt()
			// R1 must answer every chunk: 200 then a REPORT, or an error.
			if !waitFor(10*time.Second, func() bool {
				acc, _ := settle(load, recv)
				return acc.unacked == 0
			}) {
				acc, _ := settle(load, recv)
				t.Errorf("chunks without any answer from R1, whose connection to A is up: %v", acc)
			}
			// Late deliveries by a surviving R2 count as delivered.
			time.Sleep(200 * time.Millisecond)
			acc, lost := settle(load, recv)
			t.Logf("%s: %v", tc.name, acc)
			if acc.failed == 0 {
				t.Error("no chunk was reported failed after R2 went away")
			}
			if tc.strict {
				for _, o := range lost {
					t.Errorf("chunk %s got 200 from R1, never reached B and was never reported", o.msgID)
				}
			} else if len(lost) > 0 {
				t.Logf("%d chunks acknowledged by R2 died with it (unreportable without Success-Report)", len(lost))
			}
			if reason := a.conn.Reason(); reason != transport.ReasonNone {
				t.Errorf("A's connection to R1 closed (%v); it should survive R2's loss", reason)
			}
		})
	}
}

// newProxiedTLSRelay is newTLSRelay whose relay-to-relay (TLS) port is
// reached through a faultproxy: its URIs advertise the proxy's port, so a
// relay forwarding to it goes through the proxy.
func newProxiedTLSRelay(t *testing.T, ca *testpki.CA, name string) (*tlsRelay, *faultproxy.Proxy) {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := newFaultProxy(t, "tcp://"+tl.Addr().String(), 0)
	_, pport, _ := net.SplitHostPort(px.Addr())
	port, _ := strconv.Atoi(pport)
	return startTLSRelay(t, ca, name, tl, port), px
}
