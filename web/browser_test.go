package web_test

// Browser tests: the chat page and msrp.js in a real headless Chromium,
// against a real relay on 127.0.0.1. They need Debian's chromium
// (scripts/install-chromium.sh); without it they skip loudly, unless
// MSRPD_CHROMIUM=1 (set by .ci/run after installing) makes that a failure.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/msrpd/msrpd/internal/relaytest"
	"github.com/msrpd/msrpd/keepalive"
	"github.com/msrpd/msrpd/relay"
	"github.com/msrpd/msrpd/transport"
	"github.com/msrpd/msrpd/web"
)

var screenshot = flag.String("screenshot", "", "TestBrowserChat writes a PNG of the two chatting pages to this file")

// The page's keepalive in these tests: probe after 300 ms idle, 1 s
// for the answer, dead after 2 misses, reconnect backoff from 200 ms.
const tuning = "?keepalive=300&timeout=1000&misses=2&backoff=200"

var browser struct {
	once sync.Once
	ctx  context.Context
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	os.Exit(code)
}

// chromium returns a context of the shared headless Chromium, started on
// first use, or skips (fails under MSRPD_CHROMIUM=1) without one.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("MSRPD_CHROMIUM") == "1" {
			t.Fatalf("MSRPD_CHROMIUM=1 but chromium is not installed: %v", err)
		}
		t.Skip("\n*** BROWSER TEST SKIPPED: chromium is not installed. ***\n" +
			"*** Run scripts/install-chromium.sh (as root, Debian) and set MSRPD_CHROMIUM=1 ***")
	}
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "msrpd-chromium")
		if err != nil {
			browser.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.UserDataDir(dir), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
			chromedp.WindowSize(420, 760)) // a phone-sized screen
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		browser.ctx = bctx
		browser.err = chromedp.Do(bctx)
		browser.stop = func() { bcancel(); acancel(); os.RemoveAll(dir) }
	})
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	return browser.ctx
}

// testRelay is an in-process msrpd: WebSocket (with the page) and TCP.
// testRelay is a relay serving the chat page.
type testRelay struct {
	*relaytest.Relay
	url string // the page
}

// startRelay serves a relay with users alice and bob and the chat page on
// wsAddr and tcpAddr ("127.0.0.1:0" for new ports).
func startRelay(t *testing.T, wsAddr, tcpAddr string, mutate func(*relay.Config)) *testRelay {
	t.Helper()
	r := relaytest.Start(t, relaytest.Options{
		TCPAddr: tcpAddr, WSAddr: wsAddr,
		Config: func(c *relay.Config) {
			c.Web = web.Handler()
			c.Transport = transport.Config{Keepalive: keepalive.Config{Interval: 200 * time.Millisecond, Timeout: time.Second}}
			if mutate != nil {
				mutate(c)
			}
		},
	})
	return &testRelay{Relay: r, url: "http://" + r.WSAddr + "/" + tuning}
}

// page is one browser tab.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// openPage opens url in a new tab. Uncaught exceptions and Content
// Security Policy violations in the tab fail the test.
func openPage(t *testing.T, name, url string) *page {
	t.Helper()
	p := newTab(t, name)
	p.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.ID("login")))
	return p
}

// newTab opens a blank tab; see openPage.
func newTab(t *testing.T, name string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(chromium(t))
	p := &page{t: t, name: name, ctx: ctx}
	var mu sync.Mutex
	var bad []string
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				bad = append(bad, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		for _, b := range bad {
			t.Errorf("%s: %s", name, b)
		}
	})
	return p
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// eval evaluates js (awaiting a promise) into out.
func (p *page) eval(js string, out any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js, chromedp.EvalAwaitPromise))
	if err == nil {
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			err = json.Unmarshal(b, out)
		}
	}
	if err != nil {
		p.t.Fatalf("%s: evaluate %.60q: %v", p.name, js, err)
	}
}

func (p *page) text(id string) string {
	p.t.Helper()
	var s string
	p.eval(fmt.Sprintf(`document.getElementById(%q).textContent`, id), &s)
	return s
}

// wait polls the JavaScript condition cond until it is true.
func (p *page) wait(cond string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		p.eval("!!("+cond+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: after %v still not %s; #state %q, #error %q, #login-error %q", p.name, timeout, cond,
				p.text("state"), p.text("error"), p.text("login-error"))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (p *page) state(s string) string {
	return fmt.Sprintf(`document.getElementById('state').dataset.state === %q`, s)
}

// login logs in and returns the page's address.
func (p *page) login(user, pass string) string {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.ID("user"), user), chromedp.SetValue(chromedp.ID("password"), pass),
		chromedp.Click(chromedp.ID("login")))
	p.wait(p.state("connected")+` && document.getElementById('my-path').textContent`, 10*time.Second)
	// The login form gives way to the chat.
	p.wait(`document.getElementById('login-form').offsetParent === null && document.getElementById('text').offsetParent !== null`, time.Second)
	return p.text("my-path")
}

// say types text into #text and presses Enter.
func (p *page) say(to, text string) {
	p.t.Helper()
	if to != "" {
		p.do(chromedp.SetValue(chromedp.ID("to"), to))
	}
	p.do(chromedp.SendKeys(chromedp.ID("text"), text+kb.Enter))
}

// received waits for a received message from `from` with text.
func (p *page) received(from, text string) {
	p.t.Helper()
	p.wait(fmt.Sprintf(`[...document.querySelectorAll('#messages .msg.in')].some(e => e.dataset.from === %q && e.querySelector('.body').textContent === %q)`,
		from, text), 10*time.Second)
}

// delivered waits until our message with text shows its success REPORT.
func (p *page) delivered(text string) {
	p.t.Helper()
	p.wait(fmt.Sprintf(`[...document.querySelectorAll('#messages .msg.out')].some(e => e.dataset.state === 'delivered' && e.querySelector('.body').textContent === %q)`,
		text), 10*time.Second)
}

func TestBrowserChat(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0", "127.0.0.1:0", nil)
	alice, bob := openPage(t, "alice", r.url), openPage(t, "bob", r.url)
	alice.login("alice", "alicepw")
	bobPath := bob.login("bob", "bobpw")
	if !strings.Contains(bobPath, ".invalid:2855/") || !strings.HasSuffix(bobPath, ";ws") {
		t.Errorf("bob's path %q: want a .invalid own URI with ;ws (RFC 7977)", bobPath)
	}
	alice.say(bobPath, "hello bob")
	bob.received("alice", "hello bob")
	alice.delivered("hello bob")
	// Bob's #to was filled from alice's message: he just replies.
	bob.say("", "hi alice, héllo ✓")
	alice.received("bob", "hi alice, héllo ✓")
	bob.delivered("hi alice, héllo ✓")
	for i := 0; i < 3; i++ {
		alice.say("", fmt.Sprintf("message %d", i))
	}
	for i := 0; i < 3; i++ {
		bob.received("alice", fmt.Sprintf("message %d", i))
	}
	bob.say("", "all three arrived")
	alice.received("bob", "all three arrived")
	bob.delivered("all three arrived")
	for _, p := range []*page{alice, bob} { // the view follows the conversation
		p.wait(`(b => b.scrollHeight > b.clientHeight && b.scrollHeight - b.scrollTop - b.clientHeight < 2)(document.getElementById('messages'))`, time.Second)
	}

	if *screenshot != "" {
		time.Sleep(400 * time.Millisecond) // let the keepalive line show a probe

		shoot(t, *screenshot, alice, bob)
	}

	// A message to someone who left fails visibly (481 from the relay).
	bob.do(chromedp.Click(chromedp.ID("logout")))
	alice.say("", "are you there?")
	alice.wait(`[...document.querySelectorAll('#messages .msg.out')].some(e => e.dataset.state === 'failed' &&
		e.querySelector('.body').textContent === 'are you there?' && e.querySelector('.status').textContent.includes('481'))`, 10*time.Second)

	// The shareable link opens a chat to bob; reloading keeps the user name.
	var share string
	bob.eval(`document.getElementById('share').href`, &share)
	carol := openPage(t, "carol", share)
	var to, user string
	carol.eval(`document.getElementById('to').value`, &to)
	carol.eval(`document.getElementById('user').value`, &user)
	if to != bobPath {
		t.Errorf("#to from the shared link = %q, want %q", to, bobPath)
	}
	if user != "bob" { // the last login in this browser profile
		t.Errorf("#user after reload = %q, want the last user name", user)
	}
}

func ptrTrue() *bool { b := true; return &b }

// shoot writes the two pages side by side as one PNG.
func shoot(t *testing.T, path string, pages ...*page) {
	var imgs []image.Image
	w, h := 0, 0
	for _, p := range pages {
		b, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
		w += img.Bounds().Dx() + 8
		h = max(h, img.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w-8, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	x := 0
	for _, img := range imgs {
		draw.Draw(out, img.Bounds().Add(image.Pt(x, 0)), img, img.Bounds().Min, draw.Src)
		x += img.Bounds().Dx() + 8
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", path)
}

func TestBrowserFile5MiB(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0", "127.0.0.1:0", nil)
	alice, bob := openPage(t, "alice", r.url), openPage(t, "bob", r.url)
	alice.login("alice", "alicepw")
	bobPath := bob.login("bob", "bobpw")
	data := make([]byte, 5<<20)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "random.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	start := time.Now()
	alice.do(chromedp.SetValue(chromedp.ID("to"), bobPath), chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	bob.wait(`document.querySelector('#messages .msg.in[data-from="alice"] a[download="random.bin"]')`, 30*time.Second)
	t.Logf("5 MiB file received in %v", time.Since(start).Round(time.Millisecond))
	// Download it as a user would: click the link, read the file.
	dir := t.TempDir()
	progress := chromedp.Events(bob.ctx, cdpbrowser.DownloadProgress)
	bob.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTrue()})
		return err
	}), chromedp.Click(chromedp.CSS(`#messages .msg.in a[download="random.bin"]`)))
	var got []byte
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			if got, err = os.ReadFile(filepath.Join(dir, ev.GUID)); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if gs := sha256.Sum256(got); len(got) != len(data) || gs != sum {
		t.Fatalf("bob downloaded %d bytes, sha256 %x; alice sent %d bytes, sha256 %x", len(got), gs, len(data), sum)
	}
	// The sender sees its file delivered (success REPORT), the progress bar gone.
	alice.wait(`document.querySelector('#messages .msg.out[data-state="delivered"] a[download="random.bin"]')`, 10*time.Second)
}

func TestBrowserKeepaliveIdle(t *testing.T) {
	// The relay pings after 200 ms idle; the page probes after 300 ms with
	// bodiless SENDs (it cannot see Pings). Use-Paths live 2 s, so the page
	// must also refresh its AUTH while idle.
	r := startRelay(t, "127.0.0.1:0", "127.0.0.1:0", func(c *relay.Config) {
		c.Expires, c.MinExpires = 2*time.Second, time.Second
	})
	alice, bob := openPage(t, "alice", r.url), openPage(t, "bob", r.url)
	alice.login("alice", "alicepw")
	bobPath := bob.login("bob", "bobpw")
	before := r.Server.Stats().Keepalive
	time.Sleep(2500 * time.Millisecond) // about eight of the page's intervals
	ka := r.Server.Stats().Keepalive
	t.Logf("relay keepalive counters over 2.5 s idle: %+v", ka)
	pings, pongs, sends := ka.ProbesFrames-before.ProbesFrames, ka.Answers-before.Answers, ka.BodilessSends-before.BodilessSends
	if pings < 4 || pongs+2 < pings || sends < 4 || ka.Misses != 0 || ka.Timeouts != 0 || ka.ModeSwitches != 0 {
		t.Errorf("relay: %d Pings, %d answered, %d bodiless SENDs in; %d misses, %d timeouts, %d mode switches; want Pings answered by Pongs and the pages' probes, nothing missed",
			pings, pongs, sends, ka.Misses, ka.Timeouts, ka.ModeSwitches)
	}
	for _, p := range []*page{alice, bob} {
		var k struct{ Probes, Answers, Misses, Reconnects int }
		p.eval(`Object.fromEntries(Object.entries(document.getElementById('keepalive').dataset).map(([k, v]) => [k, Number(v)]))`, &k)
		if k.Probes < 3 || k.Answers+1 < k.Probes || k.Misses != 0 || k.Reconnects != 0 {
			t.Errorf("%s: keepalive %+v (%s); want several probes answered, no miss, no reconnect", p.name, k, p.text("keepalive"))
		}
		p.wait(p.state("connected"), time.Second)
	}
	// The AUTH refresh kept both Use-Paths alive past their 2 s.
	alice.say(bobPath, "still here")
	bob.received("alice", "still here")
	alice.delivered("still here")
}

func TestBrowserRelayRestart(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0", "127.0.0.1:0", nil)
	alice, bob := openPage(t, "alice", r.url), openPage(t, "bob", r.url)
	alice.login("alice", "alicepw")
	old := bob.login("bob", "bobpw")
	r.Stop()
	for _, p := range []*page{alice, bob} {
		p.wait(p.state("reconnecting"), 5*time.Second)
		p.wait(`[...document.querySelectorAll('#messages .note')].some(e => e.textContent.includes('connection lost'))`, time.Second)
	}
	time.Sleep(700 * time.Millisecond) // a few failed attempts while the relay is down
	startRelay(t, r.WSAddr, r.TCPAddr, nil)
	for _, p := range []*page{alice, bob} {
		p.wait(p.state("connected"), 10*time.Second)
		p.wait(`document.getElementById('keepalive').dataset.reconnects == 1`, time.Second)
	}
	bob.wait(fmt.Sprintf(`document.getElementById('my-path').textContent !== %q`, old), 5*time.Second)
	alice.say(bob.text("my-path"), "after the restart")
	bob.received("alice", "after the restart")
	bob.say(alice.text("my-path"), "got it")
	alice.received("bob", "got it")
}

func TestBrowserWrongPassword(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0", "127.0.0.1:0", nil)
	p := openPage(t, "mallory", r.url)
	p.do(chromedp.SetValue(chromedp.ID("user"), "alice"), chromedp.SetValue(chromedp.ID("password"), "wrong"),
		chromedp.Click(chromedp.ID("login")))
	p.wait(p.state("failed"), 10*time.Second)
	if e := p.text("login-error"); !strings.Contains(e, "wrong user name or password") {
		t.Errorf("#login-error = %q, want it to say the password is wrong", e)
	}
	var hidden bool
	p.eval(`document.getElementById('chat').hidden && !document.getElementById('login-form').hidden`, &hidden)
	if !hidden {
		t.Error("the login form should stay, the chat hidden")
	}
	// And the right password works from the same form.
	p.login("alice", "alicepw")
}

// TestBrowserBehindProxyWithOrigin serves the page through a reverse
// proxy that sets Host to the relay's address, as a TLS-terminating proxy
// does: the page's Origin is then cross-origin for the relay and needs
// --ws-origin; without it the page says so.
func TestBrowserBehindProxyWithOrigin(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("ws-origin=%v", allow), func(t *testing.T) {
			pl, err := net.Listen("tcp", "127.0.0.2:0")
			if err != nil {
				t.Skipf("no 127.0.0.2: %v", err)
			}
			origin := "http://" + pl.Addr().String()
			r := startRelay(t, "127.0.0.1:0", "127.0.0.1:0", func(c *relay.Config) {
				c.Aliases = []string{"127.0.0.2"} // --host: the name browsers use
				if allow {
					c.Transport.AllowedOrigins = []string{origin}
				}
			})
			target, _ := url.Parse("http://" + r.WSAddr)
			proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }})
			proxy.Listener.Close()
			proxy.Listener = pl
			proxy.Start()
			t.Cleanup(proxy.Close)
			p := openPage(t, "proxied", origin+"/"+tuning)
			p.do(chromedp.SetValue(chromedp.ID("user"), "alice"), chromedp.SetValue(chromedp.ID("password"), "alicepw"),
				chromedp.Click(chromedp.ID("login")))
			if allow {
				p.wait(p.state("connected"), 10*time.Second)
				return
			}
			p.wait(`document.getElementById('login-error').textContent.includes('--ws-origin')`, 10*time.Second)
		})
	}
}

// TestBrowserUnitTests runs msrp_cases.js (the node --test cases) in
// Chromium.
func TestBrowserUnitTests(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir("..")))
	t.Cleanup(srv.Close)
	p := newTab(t, "unit")
	p.do(chromedp.Navigate(srv.URL + "/web/testrunner.html"))
	p.wait(`window.testResult`, 20*time.Second)
	var res struct{ Passed, Failed []string }
	p.eval(`window.testResult`, &res)
	for _, f := range res.Failed {
		t.Error(f)
	}
	if len(res.Passed) < 10 {
		t.Errorf("only %d cases passed: %v", len(res.Passed), res.Passed)
	}
	t.Logf("%d cases passed in Chromium", len(res.Passed))
}
