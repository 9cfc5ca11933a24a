package relay

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/testpki"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// TestChaos is issue 10's chaos test: pairs of raw clients over WebSocket
// and TCP, through one relay and through two relays chained over mutual
// TLS, send a seeded random mix of small messages, multi-chunk messages
// and single chunks larger than ForwardChunk, written in parts, while
// senders and receivers are killed at random moments (reset, or
// blackholed through a faultproxy), also between the parts of a chunk.
// Afterwards the relays still serve, their goroutines, connections and
// open files are back to where they started, and every message of a
// sender that lived is delivered (byte-exact at its receiver) or failed
// explicitly (an error response or a failure REPORT): none hangs, none is
// lost silently. Every chunk a receiver gets passes a strict check.
//
// MSRPD_CHAOS_KILLS sets the number of kills (default 150, a few
// seconds); MSRPD_CHAOS_SEED replays a run.
func TestChaos(t *testing.T) {
	kills := envInt(t, "MSRPD_CHAOS_KILLS", 150)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MSRPD_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MSRPD_CHAOS_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (MSRPD_CHAOS_SEED=%d replays it), %d kills", seed, seed, kills)

	ca := testpki.NewCA(t)
	r1, r2 := startChaosSite(t, ca, "relay1.test"), startChaosSite(t, ca, "relay2.test")
	// Warm up the R1-R2 link, which stays: it is part of the baseline.
	if err := chaosHealthy(r1, r2); err != nil {
		t.Fatalf("before the chaos: %v", err)
	}
	if !waitFor(5*time.Second, func() bool { return chaosClients(r1, r2) == 0 }) {
		t.Fatalf("warm-up clients still connected: %d", chaosClients(r1, r2))
	}
	baseG, baseF := runtime.NumGoroutine(), openFiles(t)

	led := newChaosLedger()
	routes := []struct {
		from, to         *chaosSite
		fromKind, toKind string
	}{
		{r1, r1, "tcp", "ws"}, {r1, r1, "ws", "tcp"}, {r1, r1, "tcp", "tcp"}, {r1, r1, "ws", "ws"},
		{r1, r2, "ws", "tcp"}, {r1, r2, "tcp", "ws"}, {r2, r1, "tcp", "tcp"}, {r2, r1, "ws", "ws"},
	}
	var (
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		liveMu  sync.Mutex
		live    = map[*chaosGen]bool{}
		started = time.Now()
		// pairs formed, and those that could not be
		gens, dialFailures atomic.Int64
	)
	for i, rt := range routes {
		wg.Add(1)
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				g, err := newChaosGen(rng, led, rt.from, rt.to, rt.fromKind, rt.toKind)
				gens.Add(1)
				if err != nil {
					// A loaded machine may miss a keepalive during AUTH;
					// counted, and failed below if it happens often.
					if dialFailures.Add(1) <= 3 {
						t.Logf("route %d: new pair: %v", i, err)
					}
					time.Sleep(50 * time.Millisecond)
					continue
				}
				liveMu.Lock()
				live[g] = true
				liveMu.Unlock()
				g.run(stop)
				liveMu.Lock()
				delete(live, g)
				liveMu.Unlock()
				alive := g.settle()
				g.close()
				led.close(g, alive)
			}
		}()
	}

	rng := rand.New(rand.NewPCG(seed, 1<<32))
	done := 0
	for done < kills && time.Since(started) < 30*time.Minute {
		time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		liveMu.Lock()
		var gens []*chaosGen
		for g := range live {
			if g.s.alive() && g.r.alive() && g.sent.Load() > 0 {
				gens = append(gens, g)
			}
		}
		liveMu.Unlock()
		if len(gens) == 0 {
			continue
		}
		// Map order is random, but not seeded: pick from a sorted list.
		slices.SortFunc(gens, func(a, b *chaosGen) int { return cmp.Compare(a.id, b.id) })
		g := gens[rng.IntN(len(gens))]
		victim := g.s
		if rng.IntN(2) == 0 {
			victim = g.r
		}
		victim.kill(rng.IntN(3) == 0)
		done++
	}
	close(stop)
	wg.Wait()
	took := time.Since(started)

	a := led.account()
	t.Logf("%d kills in %v: %s", done, took.Round(time.Millisecond), a)
	for _, p := range led.problemList() {
		t.Error(p)
	}
	if n, f := gens.Load(), dialFailures.Load(); f*10 > n {
		t.Errorf("%d of %d new pairs could not connect and AUTH", f, n)
	}
	if a.delivered == 0 || a.failed == 0 {
		t.Errorf("no contrast: %s", a)
	}

	// The relays live on, and hold nothing of the dead clients.
	if err := chaosHealthy(r1, r2); err != nil {
		t.Errorf("after the chaos: %v", err)
	}
	if !waitFor(10*time.Second, func() bool { return chaosClients(r1, r2) == 0 }) {
		t.Errorf("%d client connections left on the relays", chaosClients(r1, r2))
	}
	if !waitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= baseG }) {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after\n%s", baseG, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
	if !waitFor(10*time.Second, func() bool { return openFiles(t) <= baseF }) {
		t.Errorf("open files: %d before, %d after", baseF, openFiles(t))
	}
	if lines := strings.Count(r1.log.String(), "\n") + strings.Count(r2.log.String(), "\n"); lines > 40*(done+a.sent/10+10) {
		t.Errorf("%d log lines for %d kills and %d messages: more than one line per event", lines, done, a.sent)
	}
}

// chaosClients counts the connections of clients (not of the other
// relay, which come over TLS) the two relays hold.
func chaosClients(sites ...*chaosSite) int {
	n := 0
	for _, s := range sites {
		for _, p := range s.srv.snapshot() {
			if p.conn.Kind() != transport.KindTLS {
				n++
			}
		}
	}
	return n
}

// chaosSite is a relay with TCP and WebSocket listeners for clients and a
// mutual-TLS listener for the other relay, with short timers.
type chaosSite struct {
	srv           *Server
	tcp, ws       string // host:port
	tcpURI, wsURI string // base URIs to AUTH to
	log           *syncBuffer
	name          string
}

func startChaosSite(t *testing.T, ca *testpki.CA, name string) *chaosSite {
	t.Helper()
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ll, tl, wl := listen(), listen(), listen()
	leaf := ca.Issue(name)
	buf := &syncBuffer{}
	srv, err := New(Config{
		Host:               "127.0.0.1",
		Port:               ll.Addr().(*net.TCPAddr).Port,
		Secure:             true,
		Realm:              relayRealm,
		Credentials:        testCredentials(),
		LoggerFactory:      &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelInfo},
		ForwardChunk:       4 << 10,
		MaxChunk:           64 << 10,
		TransactionTimeout: time.Second,
		OutboundTLS:        &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{leaf.Cert}},
		Outbound:           OutboundPolicy{Allow: []string{"127.0.0.0/8"}},
		Transport: transport.Config{
			// Short enough to find blackholed clients quickly, long enough
			// for a race-enabled build on a loaded machine.
			Keepalive:    keepalive.Config{Interval: 200 * time.Millisecond, Timeout: 200 * time.Millisecond, Misses: 2},
			WriteTimeout: 2 * time.Second,
			TLSConfig: &tls.Config{
				Certificates: []tls.Certificate{leaf.Cert},
				ClientCAs:    ca.Pool,
				ClientAuth:   tls.RequireAndVerifyClientCert,
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 3)
	go func() { srv.ServeTLS(ll); done <- struct{}{} }()
	go func() { srv.ServeTCP(tl); done <- struct{}{} }()
	go func() { srv.ServeWebSocket(wl, false); done <- struct{}{} }()
	t.Cleanup(func() {
		srv.Close()
		<-done
		<-done
		<-done
		if t.Failed() {
			log := buf.String()
			if len(log) > 64<<10 {
				log = "...\n" + log[len(log)-64<<10:]
			}
			t.Logf("%s log:\n%s", name, log)
		}
	})
	return &chaosSite{srv: srv, name: name, log: buf,
		tcp: tl.Addr().String(), ws: wl.Addr().String(),
		tcpURI: "msrp://" + tl.Addr().String() + ";tcp", wsURI: "msrp://" + wl.Addr().String() + ";ws"}
}

func (s *chaosSite) dial(kind, user, pass string, viaProxy bool) (*chaosClient, error) {
	if kind == "ws" {
		return dialChaos(kind, s.ws, s.wsURI, user, pass, viaProxy)
	}
	return dialChaos(kind, s.tcp, s.tcpURI, user, pass, viaProxy)
}

// chaosHealthy sends one message from a client of r1 to a client of r2
// and back, and closes both.
func chaosHealthy(r1, r2 *chaosSite) error {
	a, err := r1.dial("ws", relayUser, relayPass, false)
	if err != nil {
		return err
	}
	defer a.close()
	b, err := r2.dial("tcp", "bob", "secret-bob", false)
	if err != nil {
		return err
	}
	defer b.close()
	for _, dir := range [][2]*chaosClient{{a, b}, {b, a}} {
		from, to := dir[0], dir[1]
		m := request("SEND", from.pathTo(to), from.uri, "Message-ID", msrp.NewMessageID(),
			"Byte-Range", "1-5/5", "Content-Type", "text/plain")
		m.Body = []byte("hello")
		resp, err := from.roundTrip(m)
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("SEND: %v %v", resp, err)
		}
		select {
		case got := <-to.in:
			if string(got.Body) != "hello" {
				return fmt.Errorf("got %q", got.Body)
			}
			_ = to.write(got.Response(200, "OK"))
		case <-time.After(5 * time.Second):
			return fmt.Errorf("message not delivered")
		}
	}
	return nil
}

// chaosGen is one generation of a pair: a sender and a receiver that
// live until one of them is killed (or the test stops), then settle and
// make room for the next.
type chaosGen struct {
	id    uint64
	route string
	rng   *rand.Rand
	led   *chaosLedger
	s, r  *chaosClient
	to    string
	sent  atomic.Int64 // chunks written whole

	mu      sync.Mutex
	msgs    []*chaosMsg
	waiting int           // chunks written and not answered
	wake    chan struct{} // a response came
	readers sync.WaitGroup
}

var chaosGenIDs atomic.Uint64

func newChaosGen(rng *rand.Rand, led *chaosLedger, from, to *chaosSite, fromKind, toKind string) (*chaosGen, error) {
	r, err := to.dial(toKind, "bob", "secret-bob", rng.IntN(4) == 0)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	s, err := from.dial(fromKind, relayUser, relayPass, rng.IntN(4) == 0)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("sender: %w", err)
	}
	g := &chaosGen{id: chaosGenIDs.Add(1), rng: rng, led: led, s: s, r: r, to: s.pathTo(r), wake: make(chan struct{}, 1),
		route: fmt.Sprintf("%s %s (proxy %v, %s) -> %s %s (proxy %v, %s)", from.name, fromKind, s.px != nil, s.nc.LocalAddr(), to.name, toKind, r.px != nil, r.nc.LocalAddr())}
	g.readers.Add(2)
	go g.receive()
	go g.answers()
	return g, nil
}

// chaosWindow is how many chunks a sender may have unanswered.
const chaosWindow = 8

// run sends messages until stop, or until a side is killed.
func (g *chaosGen) run(stop chan struct{}) {
	for g.s.alive() && g.r.alive() {
		select {
		case <-stop:
			return
		default:
		}
		m := g.newMessage()
		if !g.sendMessage(m) {
			return
		}
	}
}

// newMessage picks a seeded random shape: a small one-chunk message, a
// message of several chunks, or one chunk larger than ForwardChunk.
func (g *chaosGen) newMessage() *chaosMsg {
	var size, chunks int
	switch g.rng.IntN(3) {
	case 0:
		size, chunks = 1+g.rng.IntN(1500), 1
	case 1:
		chunks = 2 + g.rng.IntN(4)
		size = chunks * (500 + g.rng.IntN(2500))
	default:
		size, chunks = 5000+g.rng.IntN(35000), 1
	}
	m := &chaosMsg{id: msrp.NewMessageID(), size: size, chunks: chunks, sr: g.rng.IntN(4) == 0}
	m.got = make([]uint64, (size+63)/64)
	g.led.add(m)
	g.mu.Lock()
	g.msgs = append(g.msgs, m)
	g.mu.Unlock()
	return m
}

func (g *chaosGen) sendMessage(cm *chaosMsg) bool {
	per := (cm.size + cm.chunks - 1) / cm.chunks
	sr := "no"
	if cm.sr {
		sr = "yes"
	}
	for c := 0; c < cm.chunks; c++ {
		start, end := c*per, min((c+1)*per, cm.size)
		body := make([]byte, end-start)
		for i := range body {
			body[i] = chaosByte(cm.id, start+i)
		}
		m := request("SEND", g.to, g.s.uri, "Message-ID", cm.id, "Success-Report", sr,
			"Byte-Range", fmt.Sprintf("%d-%d/%d", start+1, end, cm.size), "Content-Type", "application/octet-stream")
		m.Body = body
		if c < cm.chunks-1 {
			m.Flag = msrp.FlagMore
		}
		wire, err := m.AppendTo(nil)
		if err != nil {
			g.led.problem("encode: %v", err)
			return false
		}
		if !g.waitWindow() {
			return false
		}
		g.led.chunk(cm, m.TransactionID)
		// Cut the chunk into up to three parts at random places.
		var parts [][]byte
		for n := g.rng.IntN(3); n > 0 && len(wire) > 1; n-- {
			k := 1 + g.rng.IntN(len(wire)-1)
			parts, wire = append(parts, wire[:k]), wire[k:]
		}
		parts = append(parts, wire)
		pause := func() { time.Sleep(time.Duration(g.rng.IntN(3)) * time.Millisecond) }
		if err := g.s.writeParts(parts, pause); err != nil {
			return false // killed, or the relay closed it: the sender knows
		}
		g.mu.Lock()
		g.waiting++
		g.mu.Unlock()
		g.sent.Add(1)
	}
	return true
}

// waitWindow waits until fewer than chaosWindow chunks are unanswered.
func (g *chaosGen) waitWindow() bool {
	for {
		g.mu.Lock()
		ok := g.waiting < chaosWindow
		g.mu.Unlock()
		if ok {
			return true
		}
		if !g.s.alive() || !g.r.alive() {
			return false
		}
		select {
		case <-g.wake:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// answers takes what comes back to the sender: responses and REPORTs.
func (g *chaosGen) answers() {
	defer g.readers.Done()
	for {
		var m *msrp.Message
		select {
		case m = <-g.s.in:
		case <-g.s.done:
			return
		}
		if !m.IsRequest() {
			if g.led.response(m.TransactionID, m.StatusCode) {
				g.mu.Lock()
				g.waiting--
				g.mu.Unlock()
				select {
				case g.wake <- struct{}{}:
				default:
				}
			}
			continue
		}
		if m.Method == msrp.MethodREPORT {
			st, err := m.Status()
			if err != nil {
				g.led.problem("REPORT with bad Status %q", m.Header(msrp.HeaderStatus))
				continue
			}
			g.led.report(m.MessageID(), st.Code)
		}
	}
}

// receive takes what comes to the receiver: checks every chunk, answers
// it with 200, and sends the success REPORT a complete message asked for.
func (g *chaosGen) receive() {
	defer g.readers.Done()
	for {
		var m *msrp.Message
		select {
		case m = <-g.r.in:
		case <-g.r.done:
			return
		}
		if m.Method != msrp.MethodSEND {
			continue
		}
		complete, sr := g.led.received(m)
		if !g.r.alive() {
			continue
		}
		if m.Header(msrp.HeaderFailureReport) != "no" {
			_ = g.r.write(m.Response(200, "OK"))
		}
		if complete && sr {
			total := m.Header(msrp.HeaderByteRange)
			total = total[strings.LastIndexByte(total, '/')+1:]
			rep := request("REPORT", m.Header(msrp.HeaderFromPath), g.r.uri, "Message-ID", m.MessageID(),
				"Byte-Range", "1-"+total+"/"+total, "Status", "000 200 OK")
			_ = g.r.write(rep)
		}
	}
}

// settle waits until every message of a sender that lives is delivered or
// failed (what is neither after the wait is lost or hung), and reports
// whether the sender lived.
func (g *chaosGen) settle() bool {
	// Dead peers are found in 600 ms, forwarded chunks time out in 1 s.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !g.led.settled(g) {
		time.Sleep(20 * time.Millisecond)
	}
	return g.s.alive()
}

func (g *chaosGen) close() {
	g.s.close()
	g.r.close()
	g.readers.Wait()
}

// chaosByte is byte i of message id's body: every byte checkable.
func chaosByte(id string, i int) byte {
	return 'a' + byte((int(id[i%len(id)])+i)%26)
}

// chaosMsg is one message and everything known about its fate.
type chaosMsg struct {
	id     string
	size   int
	chunks int
	sr     bool

	tids    []string // chunks begun, in order
	codes   map[string]int
	failed  int // the code of an error response or failure REPORT
	srGot   bool
	got     []uint64 // bitmap of the bytes the receiver has
	have    int
	aborted bool
	verdict string // set once the sender's generation closed
}

type chaosAccount struct {
	sent, delivered, failed, senderGone, lost, hung int
}

func (a chaosAccount) String() string {
	return fmt.Sprintf("%d messages: %d delivered, %d failed explicitly, %d with their sender killed, %d lost silently, %d hung",
		a.sent, a.delivered, a.failed, a.senderGone, a.lost, a.hung)
}

// chaosLedger is the shared record of every message.
type chaosLedger struct {
	mu       sync.Mutex
	msgs     map[string]*chaosMsg
	byTID    map[string]*chaosMsg
	order    []*chaosMsg
	problems []string
}

func newChaosLedger() *chaosLedger {
	return &chaosLedger{msgs: map[string]*chaosMsg{}, byTID: map[string]*chaosMsg{}}
}

func (l *chaosLedger) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) < 50 {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

func (l *chaosLedger) problemList() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.problems...)
}

func (l *chaosLedger) add(m *chaosMsg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m.codes = map[string]int{}
	l.msgs[m.id] = m
	l.order = append(l.order, m)
}

func (l *chaosLedger) chunk(m *chaosMsg, tid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m.tids = append(m.tids, tid)
	l.byTID[tid] = m
}

// response records the response to a chunk; it reports whether it was
// the first for a chunk of ours.
func (l *chaosLedger) response(tid string, code int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.byTID[tid]
	if m == nil {
		l.problems = append(l.problems, fmt.Sprintf("response %d to unknown transaction %s", code, tid))
		return false
	}
	if m.codes[tid] != 0 {
		l.problems = append(l.problems, fmt.Sprintf("second response %d to %s (first %d)", code, tid, m.codes[tid]))
		return false
	}
	m.codes[tid] = code
	if code != 200 && m.failed == 0 {
		m.failed = code
	}
	return true
}

func (l *chaosLedger) report(id string, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs[id]
	switch {
	case m == nil:
		l.problems = append(l.problems, fmt.Sprintf("REPORT %d for unknown message %s", code, id))
	case code == 200:
		m.srGot = true
	case m.failed == 0:
		m.failed = code
	}
}

// received checks one chunk at the receiver and records its bytes. It
// reports whether the message is now complete and asked for a REPORT.
func (l *chaosLedger) received(c *msrp.Message) (complete, sr bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs[c.MessageID()]
	if m == nil {
		l.problems = append(l.problems, fmt.Sprintf("chunk of unknown message %q", c.MessageID()))
		return false, false
	}
	br, ok, err := c.ByteRange()
	switch {
	case !ok || err != nil:
		l.problems = append(l.problems, fmt.Sprintf("message %s: Byte-Range %q", m.id, c.Header(msrp.HeaderByteRange)))
		return false, false
	case c.Flag == msrp.FlagAbort:
		// The relay ends what it forwarded of a failed chunk: the only
		// chunk that may come without data.
		m.aborted = true
		if len(c.Body) == 0 {
			return false, false
		}
	case len(c.Body) == 0:
		l.problems = append(l.problems, fmt.Sprintf("message %s: empty piece %s flag %c", m.id, c.Header(msrp.HeaderByteRange), c.Flag))
		return false, false
	}
	switch {
	case br.Total != int64(m.size) || br.End != br.Start+int64(len(c.Body))-1 || br.End > br.Total:
		l.problems = append(l.problems, fmt.Sprintf("message %s (%d bytes): Byte-Range %s for %d bytes", m.id, m.size, c.Header(msrp.HeaderByteRange), len(c.Body)))
		return false, false
	case c.Flag == msrp.FlagMore && br.End == br.Total:
		l.problems = append(l.problems, fmt.Sprintf("message %s: '+' piece reaches the total: %s", m.id, c.Header(msrp.HeaderByteRange)))
	}
	for i, b := range c.Body {
		off := int(br.Start) - 1 + i
		if b != chaosByte(m.id, off) {
			l.problems = append(l.problems, fmt.Sprintf("message %s: byte %d corrupted", m.id, off+1))
			return false, false
		}
		if bit := uint64(1) << (off % 64); m.got[off/64]&bit == 0 {
			m.got[off/64] |= bit
			m.have++
		}
	}
	return m.have == m.size, m.sr
}

// settled reports whether every message of g is delivered or failed, or
// its sender is gone.
func (l *chaosLedger) settled(g *chaosGen) bool {
	if !g.s.alive() {
		return true
	}
	g.mu.Lock()
	msgs := g.msgs
	g.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range msgs {
		if m.failed == 0 && m.have < m.size {
			return false
		}
	}
	return true
}

// close gives every message of g its verdict, once its clients are closed;
// alive tells whether the sender lived until then.
func (l *chaosLedger) close(g *chaosGen, alive bool) {
	g.mu.Lock()
	msgs := g.msgs
	g.msgs = nil
	g.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range msgs {
		switch {
		case m.have == m.size:
			m.verdict = "delivered"
		case m.failed != 0:
			m.verdict = "failed"
		case !alive:
			m.verdict = "sender gone"
		case len(m.tids) == 0:
			m.verdict = "not sent"
		default:
			answered := true
			for _, tid := range m.tids {
				if m.codes[tid] == 0 {
					answered = false
				}
			}
			if answered {
				m.verdict = "lost"
				l.problems = append(l.problems, fmt.Sprintf("message %s (%d bytes, %d chunks): every chunk answered 200, %d bytes arrived, no failure: lost silently", m.id, m.size, m.chunks, m.have))
			} else {
				m.verdict = "hung"
				l.problems = append(l.problems, fmt.Sprintf("message %s (%d bytes, %d chunks, tids %v, codes %v): chunks without any answer and no failure: hung; route %s, receiver killed %v",
					m.id, m.size, m.chunks, m.tids, m.codes, g.route, g.r.killed.Load()))
			}
		}
		// What is left to count: the verdict. Chunks of this message
		// that still arrive are checked against the id, not recorded.
		m.got, m.codes = nil, nil
		for _, tid := range m.tids {
			delete(l.byTID, tid)
		}
		m.tids = nil
		delete(l.msgs, m.id)
	}
}

func (l *chaosLedger) account() chaosAccount {
	l.mu.Lock()
	defer l.mu.Unlock()
	var a chaosAccount
	for _, m := range l.order {
		a.sent++
		switch m.verdict {
		case "delivered":
			a.delivered++
		case "failed":
			a.failed++
		case "sender gone":
			a.senderGone++
		case "lost":
			a.lost++
		case "hung":
			a.hung++
		case "not sent":
			a.sent--
		default:
			l.problems = append(l.problems, fmt.Sprintf("message %s has no verdict", m.id))
		}
	}
	return a
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(ents)
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}
