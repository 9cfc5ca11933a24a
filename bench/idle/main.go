// Command idle holds many authenticated, idle MSRP-over-WebSocket client
// connections open against a relay, with keepalive on, so that the relay's
// memory and CPU per idle connection can be measured from outside.
//
//	idle --relay ws://127.0.0.1:8855/ --user alice:alicepw --conns 10000
//
// Each connection dials with transport.Dial (which runs the same keeper as
// the relay: a Ping frame after --ping-interval without traffic), sends an
// AUTH without Expires, answers the 401 with Digest (qop=auth, RFC 4976
// 9.1), and then only reads: it answers Pings and any request with 200.
// When every connection has authenticated (or failed) it prints one line
// "ready {json}" on stdout, then holds the connections until SIGINT, SIGTERM,
// --hold or (with --stdin) end of standard input, and prints "done {json}" with how many were
// still open.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

type counts struct {
	Wanted     int     `json:"wanted"`
	Open       int64   `json:"open"`
	DialFailed int64   `json:"dial_failed"`
	AuthFailed int64   `json:"auth_failed"`
	Closed     int64   `json:"closed"`
	Seconds    float64 `json:"seconds"`
	FirstError string  `json:"first_error,omitempty"`
}

var (
	nOpen, nDialFailed, nAuthFailed, nClosed atomic.Int64
	firstErr                                 atomic.Pointer[string]
)

func noteErr(err error) {
	s := err.Error()
	firstErr.CompareAndSwap(nil, &s)
}

func main() {
	relayURL := flag.String("relay", "", "relay WebSocket URL, ws://host:port/")
	toPath := flag.String("to", "", "AUTH To-Path (default msrp://HOST:PORT;ws from --relay)")
	user := flag.String("user", "alice:alicepw", "NAME:PASSWORD")
	conns := flag.Int("conns", 10000, "connections to open")
	par := flag.Int("parallel", 64, "connections being set up at once")
	ping := flag.Duration("ping-interval", 20*time.Second, "client keepalive: Ping frame after this long idle (0 = off)")
	hold := flag.Duration("hold", 0, "exit after this long once ready (0 = until a signal)")
	watchStdin := flag.Bool("stdin", false, "also exit at end of standard input")
	flag.Parse()
	if *relayURL == "" {
		fmt.Fprintln(os.Stderr, "idle: --relay is required")
		os.Exit(2)
	}
	if *toPath == "" {
		u, err := url.Parse(*relayURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "idle:", err)
			os.Exit(2)
		}
		*toPath = "msrp://" + u.Host + ";ws"
	}
	name, pass, ok := strings.Cut(*user, ":")
	if !ok {
		fmt.Fprintln(os.Stderr, "idle: --user wants NAME:PASSWORD")
		os.Exit(2)
	}

	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	interval := *ping
	if interval == 0 {
		interval = -1
	}
	cfg := transport.Config{LoggerFactory: lf}
	cfg.Keepalive.Interval = interval
	cfg.Keepalive.Mode = "frames"
	// One Host dials every connection: one keepalive Scheduler for all.
	host, err := transport.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		os.Exit(2)
	}
	target, err := transport.ParseTarget(*relayURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		os.Exit(2)
	}

	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ready sync.WaitGroup
	sem := make(chan struct{}, *par)
	var all sync.Mutex
	var open []*transport.Conn
	for i := 0; i < *conns; i++ {
		sem <- struct{}{}
		ready.Add(1)
		go func() {
			c, err := setup(ctx, host, target, *toPath, name, pass)
			<-sem
			if err != nil {
				ready.Done()
				return
			}
			all.Lock()
			open = append(open, c)
			all.Unlock()
			nOpen.Add(1)
			ready.Done()
			holdConn(c)
			nOpen.Add(-1)
			nClosed.Add(1)
		}()
	}
	ready.Wait()
	report("ready", *conns, time.Since(start))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	stdinEOF := make(chan struct{})
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(stdinEOF)
		}()
	}
	var timeout <-chan time.Time
	if *hold > 0 {
		timeout = time.After(*hold)
	}
	select {
	case <-sigs:
	case <-stdinEOF:
	case <-timeout:
	}
	report("done", *conns, time.Since(start))
	all.Lock()
	for _, c := range open {
		_ = c.Close(transport.ReasonShutdown, "")
	}
	all.Unlock()
}

func report(what string, wanted int, d time.Duration) {
	c := counts{
		Wanted: wanted, Open: nOpen.Load(), DialFailed: nDialFailed.Load(),
		AuthFailed: nAuthFailed.Load(), Closed: nClosed.Load(), Seconds: d.Seconds(),
	}
	if p := firstErr.Load(); p != nil {
		c.FirstError = *p
	}
	b, _ := json.Marshal(c)
	fmt.Printf("%s %s\n", what, b)
}

// setup dials and authenticates one connection.
func setup(ctx context.Context, host *transport.Host, target transport.Target, toPath, user, pass string) (*transport.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := host.Dial(dctx, target, transport.DialOptions{})
	if err != nil {
		nDialFailed.Add(1)
		noteErr(err)
		return nil, err
	}
	if err := auth(c, toPath, user, pass); err != nil {
		nAuthFailed.Add(1)
		noteErr(err)
		_ = c.Close(transport.ReasonShutdown, "")
		return nil, err
	}
	return c, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// auth runs AUTH, 401, AUTH with credentials, 200 (RFC 4976 section 5.1).
// No Expires header: Kamailio 5.6.3 refuses an authenticated AUTH that
// carries one.
func auth(c *transport.Conn, toPath, user, pass string) error {
	from := "msrp://" + randHex(6) + ".invalid:2855/" + randHex(8) + ";ws"
	m := &msrp.Message{
		TransactionID: randHex(8),
		Method:        msrp.MethodAUTH,
		Headers: []msrp.Header{
			{Name: msrp.HeaderToPath, Value: toPath},
			{Name: msrp.HeaderFromPath, Value: from},
		},
	}
	resp, err := roundTrip(c, m)
	if err != nil {
		return err
	}
	if resp.StatusCode != 401 {
		return fmt.Errorf("AUTH: want 401, got %d %s", resp.StatusCode, resp.Comment)
	}
	ch := parseParams(resp.WWWAuthenticate())
	fields := strings.Fields(toPath)
	uri := fields[len(fields)-1]
	creds, err := digest.Answer(ch, user, pass, msrp.MethodAUTH, uri, 1, randHex(8))
	if err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	m.TransactionID = randHex(8)
	m.Headers = append(m.Headers, msrp.Header{Name: msrp.HeaderAuthorization, Value: creds.Header})
	resp, err = roundTrip(c, m)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("AUTH: want 200, got %d %s", resp.StatusCode, resp.Comment)
	}
	return nil
}

// roundTrip sends m and reads until its response arrives.
func roundTrip(c *transport.Conn, m *msrp.Message) (*msrp.Message, error) {
	if err := c.Send(m); err != nil {
		return nil, err
	}
	for {
		f, err := c.Read()
		if err != nil {
			return nil, err
		}
		if !f.Last {
			continue
		}
		if f.Msg.IsRequest() {
			answer(c, f.Msg)
			continue
		}
		if f.Msg.TransactionID == m.TransactionID {
			return f.Msg, nil
		}
	}
}

// answer sends 200 to a request that expects a response (SEND).
func answer(c *transport.Conn, m *msrp.Message) {
	if m.Method == msrp.MethodSEND {
		_ = c.Send(m.Response(200, "OK"))
	}
}

// holdConn reads until the connection closes, answering requests.
func holdConn(c *transport.Conn) {
	for {
		f, err := c.Read()
		if err != nil {
			var ce *transport.CloseError
			if !errors.As(err, &ce) || ce.Reason != transport.ReasonShutdown {
				noteErr(err)
			}
			return
		}
		if f.Last && f.Msg.IsRequest() {
			answer(c, f.Msg)
		}
	}
}

// parseParams reads the key=value pairs of a Digest challenge.
func parseParams(h string) map[string]string {
	out := map[string]string{}
	_, s, _ := strings.Cut(strings.TrimSpace(h), " ")
	for s != "" {
		s = strings.TrimLeft(s, " \t,")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		rest = strings.TrimLeft(rest, " \t")
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				v, rest = rest[1:], ""
			} else {
				v, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				v, rest = rest, ""
			} else {
				v, rest = rest[:end], rest[end:]
			}
		}
		out[k] = strings.TrimSpace(v)
		s = rest
	}
	return out
}
