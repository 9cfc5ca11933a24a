package im

import (
	"strings"
	"testing"
	"time"
)

// A CPIM message as Blink sends it (with IMDN headers).
const blinkCPIM = "From: Alice <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\nDateTime: 2024-05-01T10:00:00+00:00\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: Xp3Cq0\r\nimdn.Disposition-Notification: positive-delivery, display\r\n\r\nContent-Type: text/plain;charset=utf-8\r\n\r\nhello bob"

func TestParseCPIM(t *testing.T) {
	m, err := ParseCPIM([]byte(blinkCPIM))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Content) != "hello bob" || m.Sender() != "Alice" || !m.WantsDelivery() || m.IMDNMessageID != "Xp3Cq0" || !strings.HasPrefix(m.ContentType, "text/plain") {
		t.Fatalf("%+v", m)
	}
	if _, err := ParseCPIM([]byte("no blank line")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestRoundTripAndIMDN(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	b := CPIM{From: "<sip:a@x>", To: "<sip:b@x>", DateTime: now, IMDNMessageID: "m1", Notify: "positive-delivery", Content: []byte("hi")}.Marshal()
	m, err := ParseCPIM(b)
	if err != nil || string(m.Content) != "hi" || m.From != "<sip:a@x>" || !m.DateTime.Equal(now) {
		t.Fatalf("%+v %v", m, err)
	}
	d, err := ParseCPIM(Delivered(m, "<sip:b@x>", now))
	if err != nil || d.ContentType != TypeIMDN || d.ContentDisposition != "notification" || d.To != "<sip:a@x>" {
		t.Fatalf("IMDN %+v %v", d, err)
	}
	if id, st := IMDNStatus(d.Content); id != "m1" || st != "delivered" {
		t.Fatalf("IMDN status %q %q", id, st)
	}
	if ComposingState(IsComposing(true)) != "active" {
		t.Fatal("is-composing")
	}
}
