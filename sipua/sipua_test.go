package sipua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/logging"

	"github.com/msrpd/msrpd/internal/digest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newUA(t *testing.T, cfg Config) *UA {
	t.Helper()
	buf := &syncBuffer{}
	cfg.LoggerFactory = &logging.DefaultLoggerFactory{Writer: buf, DefaultLogLevel: logging.LogLevelDebug, ScopeLevels: map[string]logging.LogLevel{}}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = u.Close()
		if t.Failed() {
			t.Logf("UA %s log:\n%s", cfg.User, buf.String())
		}
	})
	return u
}

const answerSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=message 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/b;tcp\r\na=accept-types:*\r\n"

// TestInviteAnswerBye: a call over UDP and over TCP, the callee's
// OnInvite rings and accepts, the SDP goes both ways, and BYE from
// either side ends both dialogs.
func TestInviteAnswerBye(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		for _, byeFromCaller := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s-bye-from-caller-%v", tr, byeFromCaller), func(t *testing.T) {
				calls := make(chan *Dialog, 1)
				bob := newUA(t, Config{User: "bob", OnInvite: func(in *Incoming) {
					if body, ct := in.Body(); string(body) != "offer" || ct != "application/sdp" {
						t.Errorf("offer %q %q", body, ct)
					}
					if err := in.Ring(); err != nil {
						t.Error(err)
					}
					d, err := in.Accept(context.Background(), []byte(answerSDP))
					if err != nil {
						t.Error(err)
						return
					}
					calls <- d
				}})
				alice := newUA(t, Config{User: "alice"})
				var codes []int
				target := "sip:bob@" + bob.Addr()
				if tr == "tcp" {
					target += ";transport=tcp"
				}
				d, err := alice.Invite(context.Background(), target, []byte("offer"), InviteOptions{OnResponse: func(c int, _ string) { codes = append(codes, c) }})
				if err != nil {
					t.Fatal(err)
				}
				if string(d.RemoteSDP()) != answerSDP || codes[len(codes)-1] != 200 {
					t.Fatalf("answer %q, codes %v", d.RemoteSDP(), codes)
				}
				var bd *Dialog
				select {
				case bd = <-calls:
				case <-time.After(5 * time.Second):
					t.Fatal("callee never established")
				}
				hanger, other := d, bd
				if !byeFromCaller {
					hanger, other = bd, d
				}
				if err := hanger.Hangup(context.Background()); err != nil {
					t.Fatal(err)
				}
				select {
				case <-other.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("the BYE did not end the other side")
				}
				if !other.EndedByPeer() || hanger.EndedByPeer() {
					t.Errorf("EndedByPeer: other %v, hanger %v", other.EndedByPeer(), hanger.EndedByPeer())
				}
			})
		}
	}
}

// TestByeAnsweredBeforeDone: a dialog ended by the peer's BYE is Done
// only once the 200 is sent, so a program that exits when its call ends
// (closing the UA) still answers the BYE. sipgo ends a dialog's context
// before it answers; Done once followed that context, and the hanging-up
// side then waited in vain for its 200 (the msrpcat answerer's "BYE got
// no answer"). The race was narrow: the rounds make it show.
func TestByeAnsweredBeforeDone(t *testing.T) {
	for _, byeFromCaller := range []bool{true, false} {
		t.Run(fmt.Sprintf("bye-from-caller-%v", byeFromCaller), func(t *testing.T) {
			for i := 0; i < 50; i++ {
				calls := make(chan *Dialog, 1)
				bob := newUA(t, Config{User: "bob", OnInvite: func(in *Incoming) {
					d, err := in.Accept(context.Background(), []byte(answerSDP))
					if err != nil {
						t.Error(err)
						return
					}
					calls <- d
				}})
				alice := newUA(t, Config{User: "alice"})
				d, err := alice.Invite(context.Background(), "sip:bob@"+bob.Addr(), []byte("offer"), InviteOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var bd *Dialog
				select {
				case bd = <-calls:
				case <-time.After(5 * time.Second):
					t.Fatal("callee never established")
				}
				hanger, other, otherUA := d, bd, bob
				if !byeFromCaller {
					hanger, other, otherUA = bd, d, alice
				}
				closed := make(chan struct{})
				go func() {
					<-other.Done()
					_ = otherUA.Close() // as msrpcat does when its call ends
					close(closed)
				}()
				if err := hanger.Hangup(context.Background()); err != nil {
					t.Fatalf("round %d: Hangup: %v", i, err)
				}
				<-closed
				_ = alice.Close()
				_ = bob.Close()
			}
		})
	}
}

// TestInviteRejectedAndCancelled: a final failure is a *StatusError with
// its Warning; a call not answered within RingTimeout is cancelled and
// the callee sees Canceled.
func TestInviteRejectedAndCancelled(t *testing.T) {
	canceled := make(chan struct{})
	bob := newUA(t, Config{User: "bob", OnInvite: func(in *Incoming) {
		if strings.Contains(in.To(), "busy") {
			_ = in.Reject(486, "Busy Here", "try later")
			return
		}
		_ = in.Ring()
		select {
		case <-in.Canceled():
			close(canceled)
			_ = in.Reject(487, "Request Terminated", "")
		case <-time.After(10 * time.Second):
		}
	}})
	alice := newUA(t, Config{User: "alice"})
	_, err := alice.Invite(context.Background(), "sip:busy@"+bob.Addr(), []byte("offer"), InviteOptions{})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 486 || !strings.Contains(se.Warning, "try later") {
		t.Fatalf("Invite = %v, want 486 with a Warning", err)
	}
	_, err = alice.Invite(context.Background(), "sip:bob@"+bob.Addr(), []byte("offer"), InviteOptions{RingTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Invite = %v, want ErrTimeout", err)
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the callee did not see the CANCEL")
	}
}

// TestInviteCallbacksOneAtATime: OnResponse runs on sipgo's goroutine and
// OnCancel on Invite's, yet they are called one at a time and never
// after Invite returned, so they may share state unguarded (msrpcat call
// builds its status line in them; the race detector caught it when the
// 180 and the ring timeout came together). The callbacks here touch
// plain variables; -race reports any overlap, and the rounds make the
// 180 and the CANCEL meet.
func TestInviteCallbacksOneAtATime(t *testing.T) {
	bob := newUA(t, Config{User: "bob", OnInvite: func(in *Incoming) {
		_ = in.Ring()
		<-in.Canceled()
		_ = in.Reject(487, "Request Terminated", "")
	}})
	alice := newUA(t, Config{User: "alice"})
	for i := 0; i < 10; i++ {
		var events []string
		_, err := alice.Invite(context.Background(), "sip:bob@"+bob.Addr(), []byte("offer"), InviteOptions{
			RingTimeout: time.Duration(i+1) * time.Millisecond,
			OnResponse:  func(code int, _ string) { events = append(events, fmt.Sprint(code)) },
			OnCancel:    func() { events = append(events, "CANCEL") },
		})
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("round %d: Invite = %v, want ErrTimeout", i, err)
		}
		seen := strings.Join(events, " ")
		if !strings.Contains(seen, "CANCEL") {
			t.Fatalf("round %d: callbacks %q, want OnCancel among them", i, seen)
		}
		time.Sleep(20 * time.Millisecond) // a late callback would show now
		if got := strings.Join(events, " "); got != seen {
			t.Fatalf("round %d: callbacks after Invite returned: %q, then %q", i, seen, got)
		}
	}
}

// authServer is a test registrar and callee that challenges every
// request with Digest (401, or 407 as a proxy would) and checks the
// credentials.
type authServer struct {
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	addr     string
	code     int // 401 or 407
	user     string
	pass     string
	realm    string
	nonce    string
	mu       sync.Mutex
	regs     []string // Expires of each authenticated REGISTER
	invites  atomic.Int32
	rejected atomic.Int32
}

func newAuthServer(t *testing.T, code int, grant string) *authServer {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	a := &authServer{ua: ua, srv: srv, code: code, user: "alice", pass: "s3cret", realm: "test", nonce: "n0nce42"}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		if !a.authorized(req, tx) {
			return
		}
		exp := req.GetHeader("Expires").Value()
		a.mu.Lock()
		a.regs = append(a.regs, exp)
		a.mu.Unlock()
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if exp != "0" {
			res.AppendHeader(sip.NewHeader("Contact", req.Contact().Value()+";expires="+grant))
		}
		_ = tx.Respond(res)
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if !a.authorized(req, tx) {
			return
		}
		a.invites.Add(1)
		res := sip.NewSDPResponseFromRequest(req, []byte(answerSDP))
		res.To().Params.Add("tag", "srv1")
		res.AppendHeader(sip.NewHeader("Contact", "<sip:srv@"+a.addr+">"))
		_ = tx.Respond(res)
		select {
		case <-tx.Acks():
		case <-time.After(2 * time.Second):
		}
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.addr = c.LocalAddr().String()
	go func() { _ = srv.ServeUDP(c) }()
	t.Cleanup(func() { c.Close(); ua.Close() })
	time.Sleep(20 * time.Millisecond) // let sipgo take the socket
	return a
}

var credRx = regexp.MustCompile(`(\w+)="?([^",]*)"?`)

// authorized checks the request's credentials, or challenges it.
func (a *authServer) authorized(req *sip.Request, tx sip.ServerTransaction) bool {
	hname, cname := "WWW-Authenticate", "Authorization"
	if a.code == 407 {
		hname, cname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	if h := req.GetHeader(cname); h != nil {
		p := map[string]string{}
		for _, m := range credRx.FindAllStringSubmatch(h.Value(), -1) {
			p[m[1]] = m[2]
		}
		ha1 := digest.HA1(p["username"], a.realm, a.pass)
		want := digest.Response(ha1, a.nonce, p["nc"], p["cnonce"], p["qop"], string(req.Method), p["uri"])
		if p["username"] == a.user && p["response"] == want {
			return true
		}
		a.rejected.Add(1)
	}
	res := sip.NewResponseFromRequest(req, a.code, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader(hname, fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5`, a.realm, a.nonce)))
	_ = tx.Respond(res)
	return false
}

// TestInviteDigest: an INVITE challenged with 401 or 407 is repeated
// with credentials; wrong ones end in the challenge's status.
func TestInviteDigest(t *testing.T) {
	for _, code := range []int{401, 407} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newAuthServer(t, code, "60")
			alice := newUA(t, Config{User: "alice", Password: "s3cret"})
			d, err := alice.Invite(context.Background(), "sip:bob@"+srv.addr, []byte("offer"), InviteOptions{})
			if err != nil {
				t.Fatalf("Invite: %v", err)
			}
			if srv.invites.Load() != 1 {
				t.Errorf("%d authorized INVITEs, want 1", srv.invites.Load())
			}
			if err := d.Hangup(context.Background()); err != nil {
				t.Errorf("BYE: %v", err)
			}
			mallory := newUA(t, Config{User: "alice", Password: "wrong"})
			_, err = mallory.Invite(context.Background(), "sip:bob@"+srv.addr, []byte("offer"), InviteOptions{})
			var se *StatusError
			if !errors.As(err, &se) || se.Code != code {
				t.Errorf("wrong password: %v, want %d", err, code)
			}
		})
	}
}

// TestRegister: REGISTER answers the challenge, is refreshed before the
// granted lifetime (1s) runs out, and Close removes the binding.
func TestRegister(t *testing.T) {
	srv := newAuthServer(t, 401, "1")
	u := newUA(t, Config{User: "alice", Password: "s3cret"})
	var lines []string
	var mu sync.Mutex
	r, err := u.Register(context.Background(), "sip:"+srv.addr, RegisterOptions{Expires: time.Minute,
		OnStatus: func(l string, err error) { mu.Lock(); lines = append(lines, l); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Expires() != time.Second || r.AOR() != "sip:alice@"+hostOfAddr(srv.addr) {
		t.Errorf("granted %v, AOR %s", r.Expires(), r.AOR())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.mu.Lock()
		n := len(srv.regs)
		srv.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d REGISTERs in 5s with a 1s lifetime, want refreshes", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	regs := append([]string(nil), srv.regs...)
	srv.mu.Unlock()
	if regs[0] != "60" || regs[len(regs)-1] != "0" {
		t.Errorf("Expires of the REGISTERs: %v; want 60 first and 0 (unREGISTER) last", regs)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(lines[0], "→ 401 → 200 OK (expires 1s)") || !strings.HasPrefix(lines[len(lines)-1], "unREGISTER") {
		t.Errorf("status lines %q", lines)
	}
	srv2 := newAuthServer(t, 401, "60")
	bad := newUA(t, Config{User: "alice", Password: "nope"})
	if _, err := bad.Register(context.Background(), "sip:"+srv2.addr, RegisterOptions{}); err == nil {
		t.Error("Register with a wrong password succeeded")
	}
}

func hostOfAddr(a string) string {
	h, _, _ := net.SplitHostPort(a)
	return h
}
