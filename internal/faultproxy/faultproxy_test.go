package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// echoServer echoes every connection until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(c, c); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func newProxy(t *testing.T) *Proxy {
	t.Helper()
	p, err := New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads len(msg) bytes back within d.
func roundTrip(c net.Conn, msg []byte, d time.Duration) ([]byte, error) {
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	got := make([]byte, len(msg))
	_, err := io.ReadFull(c, got)
	return got, err
}

func TestForward(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p)
	got, err := roundTrip(c, []byte("hello"), 5*time.Second)
	if err != nil || string(got) != "hello" {
		t.Fatalf("roundTrip = %q, %v; want hello", got, err)
	}
	if n := p.Conns(); n != 1 {
		t.Errorf("Conns() = %d, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault func(*Proxy)
		// wantThrough: the echo comes back while the fault is on.
		wantThrough bool
		// wantAfterResume: the echo of the faulted bytes arrives once the
		// fault is lifted (stall keeps them, blackhole drops them).
		wantAfterResume bool
	}{
		{"stall up", func(p *Proxy) { p.Stall(Up) }, false, true},
		{"stall down", func(p *Proxy) { p.Stall(Down) }, false, true},
		{"blackhole up", func(p *Proxy) { p.Blackhole(Up) }, false, false},
		{"blackhole both", func(p *Proxy) { p.Blackhole(Both) }, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t)
			c := dial(t, p)
			if _, err := roundTrip(c, []byte("warm"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			tc.fault(p)
			_, err := roundTrip(c, []byte("lost?"), 200*time.Millisecond)
			if through := err == nil; through != tc.wantThrough {
				t.Fatalf("echo during fault: err %v, want through=%v", err, tc.wantThrough)
			}
			var ne net.Error
			if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
				t.Fatalf("during fault: %v, want a timeout (sockets stay open)", err)
			}
			p.Resume(Both)
			want := "after"
			if tc.wantAfterResume {
				want = "lost?after"
			}
			got, err := roundTrip(c, []byte("after"), 5*time.Second)
			if tc.wantAfterResume {
				rest := make([]byte, len("after"))
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err = io.ReadFull(c, rest)
				got = append(got, rest...)
			}
			if err != nil || string(got) != want {
				t.Fatalf("after Resume: %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestThrottle(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p)
	const rate = 20 << 10
	p.Throttle(Down, rate)
	msg := bytes.Repeat([]byte("x"), rate/2) // ~0.5 s at the rate
	start := time.Now()
	got, err := roundTrip(c, msg, 10*time.Second)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("throttled roundTrip: %d bytes, %v", len(got), err)
	}
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Errorf("%d bytes at %d B/s took %v, want about 500ms", len(msg), rate, d)
	}
	p.Throttle(Down, 0)
	start = time.Now()
	if _, err := roundTrip(c, msg, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("unthrottled roundTrip took %v", d)
	}
}

func TestCutResets(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p)
	if _, err := roundTrip(c, []byte("x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after Cut: %v, want a reset or EOF", err)
	}
	// The proxy still accepts new connections.
	c2 := dial(t, p)
	if _, err := roundTrip(c2, []byte("y"), 5*time.Second); err != nil {
		t.Fatalf("after Cut: %v", err)
	}
}

func TestCloseReleasesGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		p, err := New(echoServer(t))
		if err != nil {
			t.Fatal(err)
		}
		var cs []net.Conn
		for i := 0; i < 5; i++ {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
			roundTrip(c, []byte("z"), 5*time.Second)
		}
		p.Blackhole(Both)
		p.Stall(Up)
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		for _, c := range cs {
			c.Close()
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	// The echo server's goroutines end in its cleanup; allow for them.
	for runtime.NumGoroutine() > before+7 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after Close", before, runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFragment: fragmented bytes arrive whole and in order, in more than
// one read (one write of 5000 bytes would arrive in one).
func TestFragment(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		data  []byte
		reads int
	}
	got := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- result{}
			return
		}
		defer c.Close()
		var r result
		buf := make([]byte, 64<<10)
		for len(r.data) < 5000 {
			n, err := c.Read(buf)
			r.data = append(r.data, buf[:n]...)
			r.reads++
			if err != nil {
				break
			}
		}
		got <- r
	}()
	p, err := New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Fragment(Up, 7, 1)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := make([]byte, 5000)
	for i := range want {
		want[i] = byte(i)
	}
	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if !bytes.Equal(r.data, want) {
			t.Fatalf("received %d bytes, not the 5000 sent", len(r.data))
		}
		if r.reads < 2 {
			t.Errorf("5000 bytes arrived in %d read, want them fragmented", r.reads)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received")
	}
}
