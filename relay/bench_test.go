package relay

import (
	"fmt"
	"testing"
	"time"

	"github.com/msrpd/msrpd/msrp"
)

// BenchmarkRelayChat measures chat throughput through one relay: a client
// sends 200-byte SENDs with 32 outstanding, the receiver answers each with
// 200. Clients run in this process too, so the figure is a floor of the
// relay's own capacity; bench/ compares whole processes.
func BenchmarkRelayChat(b *testing.B) {
	for _, kind := range []string{"tcp", "ws"} {
		b.Run(kind, func(b *testing.B) {
			t := &testing.T{}
			r := newTestRelay(t, nil)
			defer r.srv.Close()
			dial := func() *client {
				if kind == "ws" {
					return dialClient(t, r.ws, r.wsURI)
				}
				return dialClient(t, r.tcp, r.uri)
			}
			x, y := dial(), dial()
			x.auth(relayUser, relayPass)
			y.auth("bob", "secret-bob")
			body := make([]byte, 200)
			for i := range body {
				body[i] = 'a' + byte(i%26)
			}
			to := pathTo(x, y)
			go func() {
				for m := range y.msgs {
					if m.IsRequest() {
						y.conn.Send(m.Response(200, "OK"))
					}
				}
			}()
			const window = 32
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			sent, acked := 0, 0
			for acked < b.N {
				for sent < b.N && sent-acked < window {
					m := request("SEND", to, x.uri, "Message-ID", msrp.NewMessageID(),
						"Byte-Range", fmt.Sprintf("1-%d/%d", len(body), len(body)), "Content-Type", "text/plain")
					m.Body = body
					if err := x.conn.Send(m); err != nil {
						b.Fatal(err)
					}
					sent++
				}
				select {
				case <-x.msgs:
					acked++
				case <-time.After(10 * time.Second):
					b.Fatalf("stalled after %d of %d", acked, b.N)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkRelayLarge relays 64 KiB chunks between two clients, the
// large-transfer case (the receiver answers every chunk with 200): over
// TCP, over WebSocket, and from a WebSocket sender to a TCP receiver.
func BenchmarkRelayLarge(b *testing.B) {
	for _, kinds := range [][2]string{{"tcp", "tcp"}, {"ws", "ws"}, {"ws", "tcp"}} {
		name := kinds[0]
		if kinds[1] != kinds[0] {
			name += "-" + kinds[1]
		}
		b.Run(name, func(b *testing.B) { benchmarkRelayLarge(b, kinds[0], kinds[1]) })
	}
}

func benchmarkRelayLarge(b *testing.B, from, to string) {
	t := &testing.T{}
	r := newTestRelay(t, nil)
	defer r.srv.Close()
	dial := func(kind string) *client {
		if kind == "ws" {
			return dialClient(t, r.ws, r.wsURI)
		}
		return dialClient(t, r.tcp, r.uri)
	}
	x, y := dial(from), dial(to)
	x.auth(relayUser, relayPass)
	y.auth("bob", "secret-bob")
	body := make([]byte, 64<<10)
	dest := pathTo(x, y)
	go func() {
		for m := range y.msgs {
			if m.IsRequest() {
				y.conn.Send(m.Response(200, "OK"))
			}
		}
	}()
	const window = 16
	id := msrp.NewMessageID()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() {
		// CPU per chunk is what the run costs this process (relay and
		// both clients), which a machine shared with other work changes
		// far less than the throughput.
		cpu := cpuTime() - cpu0
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}()
	sent, acked := 0, 0
	for acked < b.N {
		for sent < b.N && sent-acked < window {
			m := request("SEND", dest, x.uri, "Message-ID", id,
				"Byte-Range", fmt.Sprintf("%d-%d/*", sent*len(body)+1, (sent+1)*len(body)), "Content-Type", "application/octet-stream")
			m.Body = body
			m.Flag = '+'
			if err := x.conn.Send(m); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		select {
		case <-x.msgs:
			acked++
		case <-time.After(10 * time.Second):
			b.Fatalf("stalled after %d of %d", acked, b.N)
		}
	}
}
