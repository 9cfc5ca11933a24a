package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/im"
	"github.com/msrpd/msrpd/keepalive"
)

// directPair connects two sessions without a relay over loopback.
func directPair(t *testing.T) (*endpoint.Endpoint, *endpoint.Endpoint) {
	t.Helper()
	lf := &logging.DefaultLoggerFactory{Writer: &bytes.Buffer{}, DefaultLogLevel: logging.LogLevelError}
	open := func() *endpoint.Endpoint {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := endpoint.NewListener(l, endpoint.ListenerConfig{LoggerFactory: lf, Keepalive: keepalive.Config{Interval: -1}})
		if err != nil {
			t.Fatal(err)
		}
		e, err := endpoint.Dial(context.Background(), endpoint.Config{Listener: ln, LoggerFactory: lf, Keepalive: keepalive.Config{Interval: -1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(); ln.Close() })
		return e
	}
	a, b := open(), open()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- b.Connect(ctx, a.Path(), false) }()
	if err := a.Connect(ctx, b.Path(), true); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return a, b
}

func nextMsg(t *testing.T, e *endpoint.Endpoint) *endpoint.Message {
	t.Helper()
	select {
	case m := <-e.Messages():
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	return nil
}

// TestCallSessionIMDNAndComposing: a CPIM chat line that asks for a
// positive delivery notification is shown with its sender and answered
// with a delivered IMDN; is-composing indications and notifications are
// accepted but never shown as chat lines.
func TestCallSessionIMDNAndComposing(t *testing.T) {
	peer, mine := directPair(t)
	var out bytes.Buffer
	s := &callSession{e: mine, local: "sip:bob@example.com", remote: "sip:alice@example.com", p: &printer{w: bufio.NewWriter(&out)}}
	ctx := context.Background()
	send := func(ct string, body []byte) {
		t.Helper()
		if err := peer.Send(ctx, peer.Peer(), ct, body); err != nil {
			t.Fatal(err)
		}
	}
	chat := im.CPIM{From: "Alice <sip:alice@example.com>", To: "<sip:bob@example.com>", IMDNMessageID: "imdn-1",
		Notify: "positive-delivery, display", Content: []byte("hello bob")}.Marshal()
	send(im.TypeCPIM, chat)
	if !s.handle(ctx, nextMsg(t, mine)) {
		t.Error("a chat line did not count")
	}
	imdn := nextMsg(t, peer)
	cp, err := im.ParseCPIM(imdn.Body)
	if err != nil || imdn.ContentType != im.TypeCPIM || cp.ContentType != im.TypeIMDN || cp.To != "Alice <sip:alice@example.com>" {
		t.Fatalf("notification %q: %+v, %v", imdn.ContentType, cp, err)
	}
	if id, st := im.IMDNStatus(cp.Content); id != "imdn-1" || st != "delivered" {
		t.Errorf("notification says %q %q, want imdn-1 delivered", id, st)
	}
	send(im.TypeIsComposing, im.IsComposing(true))
	send(im.TypeCPIM, im.CPIM{From: "<sip:alice@example.com>", ContentType: im.TypeIsComposing, Content: im.IsComposing(false)}.Marshal())
	send(im.TypeCPIM, im.Delivered(im.CPIM{IMDNMessageID: "x", From: "<sip:bob@example.com>"}, "<sip:alice@example.com>", time.Now()))
	for i := 0; i < 3; i++ {
		if s.handle(ctx, nextMsg(t, mine)) {
			t.Errorf("indication or notification %d counted as a message", i)
		}
	}
	if got := strings.TrimSpace(out.String()); got != "Alice: hello bob" {
		t.Errorf("printed %q, want only the chat line with its sender", got)
	}
}
