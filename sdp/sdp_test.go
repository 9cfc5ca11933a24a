package sdp

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseBlinkOffer(t *testing.T) {
	s, err := Parse(load(t, "blink-chat-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	idx, m, err := s.MSRP()
	if err != nil || idx != 0 {
		t.Fatalf("MSRP() = %d, %v", idx, err)
	}
	if m.Proto != ProtoTLS || m.Setup != SetupActPass || m.Connection != "new" || m.Addr != "192.0.2.10" || m.Direction != "sendrecv" {
		t.Errorf("media %+v", m)
	}
	if p, _ := m.PeerPath(); len(p) != 2 || p[0].Host != "relay.example.com" {
		t.Errorf("path %q", m.Path)
	}
	if m.AcceptTypes[0] != "message/cpim" || !Accepts(m.AcceptTypes, "text/plain;charset=utf-8") || Accepts(m.AcceptTypes, "application/pdf") {
		t.Errorf("accept-types %v", m.AcceptTypes)
	}
}

func TestAudioAndFileOffer(t *testing.T) {
	s, err := Parse(load(t, "audio-and-file-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	idx, m, err := s.MSRP()
	if err != nil || idx != 1 {
		t.Fatalf("MSRP() = %d, %v", idx, err)
	}
	if m.File == nil || m.File.Name != `My File "x".bin` || m.File.Size != 1048576 || m.File.HashAlg != "sha-1" || len(m.File.Hash) != 20 {
		t.Fatalf("file %+v", m.File)
	}
	if m.Direction != "sendonly" || m.Setup != SetupActive || m.Addr != "192.0.2.20" || m.FileTransferID != "vBnG916bdberum2fFEABR8" {
		t.Errorf("media %+v", m)
	}
	// The answer keeps the sections in order and rejects the audio.
	mine := MSRPMedia{Port: 40000, Proto: ProtoTCP, Addr: "127.0.0.1", Path: "msrp://127.0.0.1:40000/s1;tcp",
		AcceptTypes: []string{"*"}, Setup: SetupPassive, Connection: "new", Direction: "recvonly", File: m.File}
	ans := Answer(s, idx, mine, "127.0.0.1", 7)
	back, err := Parse(ans.Marshal())
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, ans.Marshal())
	}
	if len(back.Media) != 2 || back.Media[0].Port != 0 || back.Media[0].Type != "audio" {
		t.Fatalf("audio not rejected:\n%s", ans.Marshal())
	}
	_, bm, err := back.MSRP()
	if err != nil || bm.Path != mine.Path || bm.Direction != "recvonly" || bm.File.String() != m.File.String() {
		t.Fatalf("answer media %+v, %v", bm, err)
	}
	if !strings.Contains(string(ans.Marshal()), "a=file-selector:name:\"My File %22x%22.bin\" type:application/octet-stream size:1048576 hash:sha-1:72:24:5F:") {
		t.Errorf("file-selector not written as RFC 5547 says:\n%s", ans.Marshal())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, sdp string
		want      error
	}{
		{"empty", "", ErrSyntax},
		{"no v", "o=- 1 1 IN IP4 1.2.3.4\r\n", ErrSyntax},
		{"garbage", "v=0\r\nhello\r\n", ErrSyntax},
		{"bad port", "v=0\r\nm=message x TCP/MSRP *\r\n", ErrSyntax},
		{"short m", "v=0\r\nm=message 9\r\n", ErrSyntax},
		{"empty attr", "v=0\r\nm=message 9 TCP/MSRP *\r\na=\r\n", ErrSyntax},
		{"nul", "v=0\r\ns=a\x00b\r\n", ErrSyntax},
	} {
		if _, err := Parse([]byte(tc.sdp)); !errors.Is(err, tc.want) {
			t.Errorf("%s: Parse(%q) = %v, want %v", tc.name, tc.sdp, err, tc.want)
		}
	}
}

func TestNoAcceptableMSRP(t *testing.T) {
	base := "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"
	for _, tc := range []struct{ name, media, why string }{
		{"audio only", "m=audio 4000 RTP/AVP 0\r\n", "no m=message"},
		{"rtp proto", "m=message 9 RTP/AVP *\r\na=path:msrp://a:1/x;tcp\r\na=accept-types:*\r\n", "protocol"},
		{"port 0", "m=message 0 TCP/MSRP *\r\na=path:msrp://a:1/x;tcp\r\na=accept-types:*\r\n", "port 0"},
		{"no path", "m=message 9 TCP/MSRP *\r\na=accept-types:*\r\n", "a=path"},
		{"bad path", "m=message 9 TCP/MSRP *\r\na=path:http://x/\r\na=accept-types:*\r\n", "a=path"},
		{"no accept-types", "m=message 9 TCP/MSRP *\r\na=path:msrp://a:1/x;tcp\r\n", "accept-types"},
		{"bad setup", "m=message 9 TCP/MSRP *\r\na=path:msrp://a:1/x;tcp\r\na=accept-types:*\r\na=setup:both\r\n", "setup"},
		{"bad file", "m=message 9 TCP/MSRP *\r\na=path:msrp://a:1/x;tcp\r\na=accept-types:*\r\na=file-selector:size:-3\r\n", "size"},
	} {
		s, err := Parse([]byte(base + tc.media))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, _, err := s.MSRP(); !errors.Is(err, ErrNoMSRP) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: MSRP() = %v, want ErrNoMSRP naming %q", tc.name, err, tc.why)
		}
	}
}

func TestSetupNegotiation(t *testing.T) {
	for _, tc := range []struct{ offer, prefer, want string }{
		{SetupActPass, "", SetupActive},
		{SetupActPass, SetupPassive, SetupPassive},
		{SetupActive, "", SetupPassive},
		{SetupPassive, SetupPassive, SetupActive},
		{"", "", SetupActive},
	} {
		if got, err := AnswerSetup(tc.offer, tc.prefer); got != tc.want || err != nil {
			t.Errorf("AnswerSetup(%q, %q) = %q, %v; want %q", tc.offer, tc.prefer, got, err, tc.want)
		}
	}
	if _, err := AnswerSetup("holdconn", ""); err == nil {
		t.Error("holdconn answered")
	}
	for ans, want := range map[string]bool{SetupPassive: true, SetupActive: false, "": false} {
		if got, err := OffererActive(ans); got != want || err != nil {
			t.Errorf("OffererActive(%q) = %v, %v", ans, got, err)
		}
	}
	if _, err := OffererActive(SetupActPass); err == nil {
		t.Error("an actpass answer accepted")
	}
}

func TestFileSelectorRoundTrip(t *testing.T) {
	f := FileSelector{Name: "a b%c.txt", Type: "text/markdown; charset=utf-8", Size: 0, HashAlg: "sha-1", Hash: bytes.Repeat([]byte{0xab}, 20)}
	g, err := ParseFileSelector(f.String())
	if err != nil || g.String() != f.String() || g.Name != f.Name || g.Type != "text/markdown;charset=utf-8" {
		t.Fatalf("%q -> %+v, %v", f.String(), g, err)
	}
}

// FuzzParse: Parse and the MSRP view never panic; what parses writes
// out, and what is written parses back to the same text.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"blink-chat-offer.sdp", "audio-and-file-offer.sdp"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\r\nm=message 9 TCP/MSRP *\r\na=path:msrp://a:1/x;tcp\r\na=accept-types:*\r\na=file-selector:name:\"x\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if _, m, err := s.MSRP(); err == nil {
			_ = m.Media().Attrs
		}
		out := s.Marshal()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%q", err, out)
		}
		if out2 := s2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("round trip differs:\n%q\n%q", out, out2)
		}
	})
}
