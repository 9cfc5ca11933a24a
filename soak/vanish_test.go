package soak

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/msrpd/msrpd/internal/digest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/msrp"
	"github.com/msrpd/msrpd/transport"
)

// vanishers is the transport of the vanishing clients: one Host dials
// them all, without keepalive.
var vanishers = func() *transport.Host {
	h, err := transport.New(transport.Config{Keepalive: keepalive.Config{Interval: -1}})
	if err != nil {
		panic(err)
	}
	return h
}()

// vanish is a client that AUTHs, sends one message to peerPath, waits for
// the relay's 200, and then drops its socket without closing anything.
// The endpoint package closes politely, so this one is built by hand.
func vanish(ctx context.Context, relay, peerPath string) error {
	target, err := transport.ParseTarget(relay)
	if err != nil {
		return err
	}
	c, err := vanishers.Dial(ctx, target, transport.DialOptions{})
	if err != nil {
		return err
	}
	defer c.Close(transport.ReasonLocal, "vanished") // to the Host: the socket is gone by then
	defer c.NetConn().Close()                        // no close frame, no goodbye
	hostport := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(relay, "ws://"), "msrp://"), "/")
	hostport = strings.TrimSuffix(hostport, ";tcp")
	via := "msrp://" + hostport + ";tcp"
	if strings.HasPrefix(relay, "ws://") {
		via = "msrp://" + hostport + ";ws"
	}
	self := "msrp://" + msrp.NewTransactionID() + ".invalid:9/" + msrp.NewTransactionID() + ";tcp"
	req := func(method, to string, hdrs ...string) *msrp.Message {
		m := &msrp.Message{TransactionID: msrp.NewTransactionID(), Method: method,
			Headers: []msrp.Header{{Name: "To-Path", Value: to}, {Name: "From-Path", Value: self}}}
		for i := 0; i+1 < len(hdrs); i += 2 {
			m.Headers = append(m.Headers, msrp.Header{Name: hdrs[i], Value: hdrs[i+1]})
		}
		return m
	}
	roundTrip := func(m *msrp.Message) (*msrp.Message, error) {
		if err := c.Send(m); err != nil {
			return nil, err
		}
		for {
			f, err := c.Read()
			if err != nil {
				return nil, err
			}
			if f.Last && !f.Msg.IsRequest() && f.Msg.TransactionID == m.TransactionID {
				return f.Msg.Clone(), nil
			}
		}
	}
	ch, err := roundTrip(req("AUTH", via))
	if err != nil {
		return err
	}
	p, err := digest.Parse(ch.WWWAuthenticate())
	if err != nil {
		return err
	}
	creds, err := digest.Answer(p, "alice", "alicepw", "AUTH", via, 1, "0a4f113b")
	if err != nil {
		return err
	}
	ok, err := roundTrip(req("AUTH", via, "Authorization", creds.Header))
	if err != nil {
		return err
	}
	if ok.StatusCode != 200 {
		return fmt.Errorf("AUTH: %d", ok.StatusCode)
	}
	body := []byte("gone in a moment")
	send := req("SEND", ok.Header("Use-Path")+" "+peerPath, "Message-ID", msrp.NewMessageID(),
		"Byte-Range", fmt.Sprintf("1-%d/%d", len(body), len(body)), "Content-Type", "text/plain")
	send.Body = body
	r, err := roundTrip(send)
	if err != nil {
		return err
	}
	if r.StatusCode != 200 {
		return fmt.Errorf("SEND: %d", r.StatusCode)
	}
	time.Sleep(10 * time.Millisecond)
	return nil
}
