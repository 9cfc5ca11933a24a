// Unit tests of msrp.js and md5.js, shared by two runners: msrp.test.js
// (node --test) and the Chromium run of web/browser_test.go
// (testrunner.html). Each case gets t with eq, ok, throws, sample(name)
// (bytes of testdata/wire/NAME), samples(prefix) (their names) and
// text(path) (a repository file).

import { md5 } from './md5.js';
import {
  parse, serialize, parseByteRange, parseDigest, digestResponse, digestAuthorization,
  cpimWrap, cpimParse, Assembly, Keepalive, Client, Message, ProtocolError, relayURIFor,
} from './msrp.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** FakeClock runs timers when the test advances it. */
class FakeClock {
  constructor() { this.t = 0; this.timers = new Map(); this.seq = 0; }
  now() { return this.t; }
  setTimeout(f, ms) { this.timers.set(++this.seq, { at: this.t + ms, f }); return this.seq; }
  clearTimeout(id) { this.timers.delete(id); }
  async advance(ms) {
    const until = this.t + ms;
    for (;;) {
      await settle();
      let next = null;
      for (const [id, x] of this.timers) if (x.at <= until && (!next || x.at < next[1].at)) next = [id, x];
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].f();
    }
    this.t = until;
    await settle();
  }
}

const settle = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

/** FakeRelay plays the relay's side of the fake WebSockets a Client opens:
 * Digest AUTH for alice:alicepw (realm test), 200 to SENDs, optionally
 * silent to keepalive probes. */
class FakeRelay {
  constructor() {
    this.sockets = [];
    this.got = []; // every request received, parsed
    this.answerProbes = true;
    this.expires = 0;
    this.sid = 0;
    const relay = this;
    this.WebSocket = class {
      constructor(url, proto) {
        Object.assign(this, { url, proto, readyState: 0, closed: false });
        relay.sockets.push(this);
        queueMicrotask(() => { this.readyState = 1; this.onopen?.(); });
      }
      send(b) { relay.#handle(this, parse(b)); }
      close() { this.closed = true; this.readyState = 3; }
      deliver(m) { this.onmessage?.({ data: serialize(m).slice().buffer }); }
      drop() { this.closed = true; this.onclose?.({ code: 1006, reason: '' }); }
    };
  }
  get ws() { return this.sockets[this.sockets.length - 1]; }
  #handle(ws, m) {
    if (m.status) return this.got.push(m);
    this.got.push(m);
    const reply = (status, comment, extra = []) => queueMicrotask(() => ws.deliver(new Message({ tid: m.tid, status, comment,
      headers: [['To-Path', m.get('From-Path').split(' ')[0]], ['From-Path', m.get('To-Path').split(' ')[0]], ...extra] })));
    if (m.method === 'AUTH') {
      const a = parseDigest(m.get('Authorization'));
      if (!a.response) return reply(401, 'Unauthorized', [['WWW-Authenticate', 'Digest realm="test", qop="auth", nonce="n0nc3"']]);
      const p = { user: a.username, realm: 'test', password: 'alicepw', uri: a.uri, nonce: a.nonce, nc: a.nc, cnonce: a.cnonce };
      if (a.response !== digestResponse({ ...p, method: 'AUTH' })) {
        return reply(401, 'Unauthorized', [['WWW-Authenticate', 'Digest realm="test", qop="auth", nonce="n0nc4"']]);
      }
      const up = m.get('To-Path').includes('/s') ? m.get('To-Path') : `msrp://relay.test:2855/s${++this.sid};tcp`;
      const h = [['Use-Path', up], ['Authentication-Info', `rspauth="${digestResponse({ ...p, method: '' })}", nc=${a.nc}, qop=auth`]];
      if (this.expires) h.push(['Expires', String(this.expires)]);
      return reply(200, 'OK', h);
    }
    if (m.method === 'SEND' && (m.body || this.answerProbes)) reply(200, 'OK');
  }
}

async function login(opts = {}) {
  const relay = new FakeRelay();
  const clock = new FakeClock();
  Object.assign(relay, opts.relay || {});
  const states = [];
  const c = new Client({ url: 'ws://relay.test:8855/', user: 'alice', password: 'alicepw', clock,
    WebSocket: relay.WebSocket, keepalive: { interval: 1000, timeout: 500, misses: 2 }, ...opts.client });
  c.addEventListener('state', (e) => states.push(e.detail.state));
  c.connect();
  await clock.advance(0);
  return { relay, clock, c, states };
}

function incoming(c, { tid, id = 'm1', range, flag = '$', body, report = false, to = c.ownURI }) {
  const h = [['To-Path', to], ['From-Path', `${c.usePath} msrp://relay.test:2855/peer;tcp msrp://bob.invalid:2855/b;ws`],
    ['Message-ID', id]];
  if (report) h.push(['Success-Report', 'yes']);
  if (range) h.push(['Byte-Range', range]);
  if (body) h.push(['Content-Type', 'application/octet-stream']);
  return new Message({ tid, method: 'SEND', headers: h, body: body ? enc.encode(body) : null, flag });
}

export const cases = [
  ['md5 RFC 1321 test suite', (t) => {
    const v = {
      '': 'd41d8cd98f00b204e9800998ecf8427e', a: '0cc175b9c0f1b6a831c399e269772661',
      abc: '900150983cd24fb0d6963f7d28e17f72', 'message digest': 'f96b697d7cb7938d525a2f31aaf161d0',
      abcdefghijklmnopqrstuvwxyz: 'c3fcd3d76192e4007dfb496cca67e13b',
      ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789: 'd174ab98d277d9f5a5611c2c9f419d9f',
      ['1234567890'.repeat(8)]: '57edf4a22be3c955ac49da2e2107b67a',
    };
    for (const [s, want] of Object.entries(v)) t.eq(md5(s), want, JSON.stringify(s));
    // Block boundaries: 55, 56 and 64 bytes pad differently (values from md5sum).
    t.eq(md5('x'.repeat(55)), '04364420e25c512fd958a70738aa8f72', '55');
    t.eq(md5('x'.repeat(56)), '668a72d5ba17f08e62dabcafad6db14b', '56');
    t.eq(md5('x'.repeat(64)), 'c1bb4f81d892b2d57947682aeb252456', '64');
    t.eq(md5(new Uint8Array([0, 255, 128])), '4fd64cb80c3f86e1e9d0f559af8b370f', 'bytes');
  }],

  ['Digest response: RFC 2617 example and an MSRP AUTH known value', (t) => {
    t.eq(digestResponse({ user: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET',
      uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', nc: '00000001', cnonce: '0a4f113b' }),
    '6629fae49393a05397450978507c4ef1');
    // md5sum of md5sum: HA1 = alice:127.0.0.1:alicepw, HA2 = AUTH:msrp://127.0.0.1:8855;ws.
    const ch = parseDigest('Digest realm="127.0.0.1", qop="auth", nonce="n0nc3", opaque="o\\"p"');
    t.eq(ch.opaque, 'o"p');
    const d = digestAuthorization(ch, { user: 'alice', password: 'alicepw', uri: 'msrp://127.0.0.1:8855;ws', cnonce: 'c0nc3' });
    t.eq(parseDigest(d.header).response, '9cffa293c4f06259356d413898801522');
    t.eq(d.rspauth, '4f0cc9e6893128ae1133f7310340ab3e');
    t.ok(/qop=auth, nc=00000001, cnonce="c0nc3"/.test(d.header), d.header);
    t.ok(/opaque="o\\"p"/.test(d.header), d.header);
    t.throws(() => digestAuthorization({ nonce: 'x', algorithm: 'SHA-256' }, { user: 'a', password: 'b', uri: 'u' }));
  }],

  ['parser and writer agree with every valid wire sample, byte for byte', async (t) => {
    const names = await t.samples('valid-');
    t.ok(names.length >= 20, `${names.length} samples`);
    for (const n of names) {
      const b = await t.sample(n);
      const m = parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      t.eq(hex(serialize(m)), hex(b), n);
      let text = null; // a text frame holds UTF-8 only
      try { text = new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { /* binary sample */ }
      if (text !== null) t.eq(hex(serialize(parse(text))), hex(b), `${n} as a text frame`);
    }
  }],

  ['parser refuses every invalid wire sample as msrp/wire_test.go says Parse must', async (t) => {
    // The Go table: "name": {wantErr{reader...}, wantErr{CODE, FATAL}}.
    const table = await t.text('msrp/wire_test.go');
    const want = {};
    for (const r of table.matchAll(/"(invalid-[^"]+)":\s*\{wantErr\{\d+, \w+\}, wantErr\{(\d+), (\w+)\}\}/g)) {
      want[r[1]] = Number(r[2]);
    }
    const names = await t.samples('invalid-');
    t.eq(Object.keys(want).length, names.length, 'one table entry per sample');
    for (const n of names) {
      let err = null;
      try { parse(await t.sample(n)); } catch (e) { err = e; }
      t.ok(err instanceof ProtocolError, `${n}: refused`);
      t.eq(err?.status, want[n], `${n}: status`);
    }
  }],

  ['Byte-Range', (t) => {
    t.eq(JSON.stringify(parseByteRange('1-0/0')), '{"start":1,"end":0,"total":0}');
    t.eq(JSON.stringify(parseByteRange('2049-*/*')), '{"start":2049,"end":null,"total":null}');
    for (const bad of ['0-1/1', '5-3/10', '1-11/10', '12-*/10', '1-5', '1-2/99999999999999999999']) {
      t.eq(parseByteRange(bad), null, bad);
    }
  }],

  ['relay URI and own URI (RFC 7977: .invalid host, ;ws)', (t) => {
    t.eq(relayURIFor('ws://127.0.0.1:8855/'), 'msrp://127.0.0.1;ws');
    t.eq(relayURIFor('wss://chat.example.com/'), 'msrps://chat.example.com;ws');
    const c = new Client({ url: 'wss://chat.example.com/', user: 'a', password: 'b', WebSocket: class {} });
    t.ok(/^msrps:\/\/[a-z0-9]{12}\.invalid:2855\/[A-Za-z0-9]{16};ws$/.test(c.ownURI), c.ownURI);
  }],

  ['CPIM wrap and parse', (t) => {
    const body = cpimWrap({ from: 'al"ice', date: new Date(0) }, [['Content-Type', 'text/plain'], ['Content-Disposition', 'attachment; filename="a\r\nb"']], 'héllo');
    const p = cpimParse(body);
    t.eq(p.from, 'alice');
    t.eq(p.date.getTime(), 0);
    t.eq(p.headers['content-type'], 'text/plain');
    t.eq(p.headers['content-disposition'], 'attachment; filename=ab');
    t.eq(dec.decode(p.content), 'héllo');
  }],

  ['Assembly: chunks in any order, overlaps, limit', (t) => {
    const data = enc.encode('abcdefghijklmnopqrstuvwxyz');
    const chunk = (s, e, total, flag = '+') => [new Message({ method: 'SEND', headers: [['Content-Type', 'x']], body: data.subarray(s - 1, e), flag }),
      { start: s, end: e, total }];
    const a = new Assembly(1000);
    t.eq(a.add(...chunk(11, 20, 26)), false);
    t.eq(a.add(...chunk(1, 12, 26)), false); // overlaps the first
    t.eq(a.add(...chunk(21, 26, 26, '$')), true);
    t.eq(a.received(), 26);
    const b = new Assembly(1000); // total unknown until the last chunk
    t.eq(b.add(...chunk(1, 10, null)), false);
    t.eq(b.add(...chunk(11, 26, null, '$')), true);
    t.eq(dec.decode(b.bytes()), 'abcdefghijklmnopqrstuvwxyz');
    t.throws(() => new Assembly(10).add(...chunk(1, 5, 26)), (e) => e.status === 413);
    t.throws(() => new Assembly(100).add(...chunk(1, 26, 20)), (e) => e.status === 400);
  }],

  ['Keepalive state machine on a fake clock', async (t) => {
    const clock = new FakeClock();
    const ev = [];
    const ka = new Keepalive({ interval: 1000, timeout: 300, misses: 2 }, clock,
      { probe: () => ev.push(`probe@${clock.now()}`), dead: (n) => ev.push(`dead@${clock.now()}/${n}`) });
    ka.start();
    await clock.advance(999);
    t.eq(ev.length, 0, 'no probe before the interval');
    await clock.advance(1);
    t.eq(ev.join(), 'probe@1000');
    await clock.advance(100);
    ka.answered();
    t.eq(ka.stats.rtt, 100);
    await clock.advance(600);
    ka.activity(); // traffic at 1700 postpones the next probe to 2700
    await clock.advance(999);
    t.eq(ev.join(), 'probe@1000');
    await clock.advance(1);
    t.eq(ev.join(), 'probe@1000,probe@2700');
    await clock.advance(300); // missed: probe again at once
    t.eq(ev.join(), 'probe@1000,probe@2700,probe@3000');
    t.eq(ka.stats.misses, 1);
    await clock.advance(300);
    t.eq(ev.join(), 'probe@1000,probe@2700,probe@3000,dead@3300/2', 'dead after interval + 2 timeouts');
    await clock.advance(5000);
    t.eq(ev.length, 4, 'stopped after dead');
    // Traffic after a probe (but no answer to it) is not a miss.
    const ev2 = [];
    const k2 = new Keepalive({ interval: 1000, timeout: 300, misses: 1 }, clock, { probe: () => ev2.push('p'), dead: () => ev2.push('dead') });
    k2.start();
    await clock.advance(1100);
    k2.activity();
    await clock.advance(250);
    t.eq(ev2.join(), 'p');
    k2.stop();
  }],

  ['Client: Digest AUTH, path, wrong password', async (t) => {
    const { relay, c, states } = await login();
    t.eq(states.join(), 'connecting,authenticating,connected');
    t.eq(relay.ws.proto, 'msrp');
    const auths = relay.got.filter((m) => m.method === 'AUTH');
    t.eq(auths.length, 2);
    t.eq(auths[0].get('To-Path'), 'msrp://relay.test;ws');
    t.eq(parseDigest(auths[1].get('Authorization')).uri, 'msrp://relay.test;ws');
    t.eq(c.path, `msrp://relay.test:2855/s1;tcp ${c.ownURI}`);
    const bad = await login({ client: { password: 'nope' } });
    const errs = [];
    bad.c.addEventListener('error', (e) => errs.push(e.detail.message));
    await bad.clock.advance(60000);
    t.eq(bad.states.join(), 'connecting,authenticating,failed');
    t.eq(bad.relay.sockets.length, 1, 'no reconnect after a refused password');
    t.ok(bad.relay.ws.closed);
  }],

  ['Client: chunking, window, progress, success REPORT', async (t) => {
    const { relay, clock, c } = await login({ client: { chunkSize: 2048, window: 3 } });
    const data = new Uint8Array(5000).map((_, i) => i);
    const ev = [];
    c.addEventListener('delivery', (e) => ev.push(e.detail.state));
    c.addEventListener('progress', (e) => ev.push(e.detail.bytes));
    relay.got.length = 0;
    const id = c.send('msrp://relay.test:2855/peer;tcp msrp://bob.invalid:2855/b;ws', data, { contentType: 'application/octet-stream' });
    const sends = relay.got.filter((m) => m.method === 'SEND');
    t.eq(sends.length, 3, 'three chunks, all within the window');
    t.eq(sends.map((m) => `${m.get('Byte-Range')}${m.flag}`).join(' '), '1-2048/5000+ 2049-4096/5000+ 4097-5000/5000$');
    t.eq(sends[0].get('To-Path'), 'msrp://relay.test:2855/s1;tcp msrp://relay.test:2855/peer;tcp msrp://bob.invalid:2855/b;ws');
    t.eq(sends[0].get('Success-Report'), 'yes');
    t.eq(sends[0].headers[sends[0].headers.length - 1][0], 'Content-Type', 'Content-Type last');
    const joined = new Uint8Array(5000);
    let off = 0;
    for (const m of sends) { joined.set(m.body, off); off += m.body.length; }
    t.eq(hex(joined), hex(data));
    await clock.advance(0);
    t.eq(ev.join(), '2048,4096,5000,sent');
    relay.ws.deliver(new Message({ method: 'REPORT', headers: [['To-Path', c.ownURI], ['From-Path', 'msrp://relay.test:2855/s1;tcp'],
      ['Message-ID', id], ['Byte-Range', '1-5000/5000'], ['Status', '000 200 OK']] }));
    t.eq(ev.join(), '2048,4096,5000,sent,delivered');
    // A failure REPORT fails the message.
    const id2 = c.send('msrp://relay.test:2855/peer;tcp', 'hi');
    await clock.advance(0);
    relay.ws.deliver(new Message({ method: 'REPORT', headers: [['To-Path', c.ownURI], ['From-Path', 'msrp://relay.test:2855/s1;tcp'],
      ['Message-ID', id2], ['Byte-Range', '1-2/2'], ['Status', '000 481 No Such Session']] }));
    t.eq(ev.slice(-2).join(), 'sent,failed');
    t.throws(() => c.send('bob', 'x'), (e) => /not an MSRP path/.test(e.message));
    // The connection drops before the relay took every chunk: the message
    // fails, and the client reconnects.
    const fates = {};
    c.addEventListener('delivery', (e) => { fates[e.detail.messageId] = e.detail; });
    const id3 = c.send('msrp://relay.test:2855/peer;tcp', new Uint8Array(10000));
    relay.ws.drop();
    t.eq(fates[id3]?.state, 'failed');
    t.ok(/connection closed/.test(fates[id3].reason), fates[id3].reason);
    t.eq(c.state, 'reconnecting');
    await clock.advance(1000);
    t.eq(c.state, 'connected');
  }],

  ['Client: reassembly, 200s, bodiless SEND, 481, REPORT on request', async (t) => {
    const { relay, clock, c } = await login();
    const got = [];
    c.addEventListener('message', (e) => got.push(e.detail));
    relay.got.length = 0;
    relay.ws.deliver(incoming(c, { tid: 'b0d1e55', range: '1-0/0' })); // a peer's keepalive
    relay.ws.deliver(incoming(c, { tid: 'chunk0002', range: '6-11/11', body: ' world', report: true }));
    relay.ws.deliver(incoming(c, { tid: 'chunk0001', range: '1-5/11', body: 'hello', flag: '+', report: true }));
    relay.ws.deliver(incoming(c, { tid: 'wrongto1', id: 'm2', body: 'x', to: 'msrp://other.invalid:2855/x;ws' }));
    await clock.advance(0);
    t.eq(relay.got.filter((m) => m.status).map((m) => `${m.tid}:${m.status}`).join(), 'b0d1e55:200,chunk0002:200,chunk0001:200,wrongto1:481');
    t.eq(relay.got.find((m) => m.status).get('To-Path'), c.usePath, 'responses go to the previous hop only');
    t.eq(got.length, 1);
    t.eq(dec.decode(got[0].body), 'hello world');
    t.eq(got[0].from, 'msrp://relay.test:2855/peer;tcp msrp://bob.invalid:2855/b;ws', "the peer's path, without our Use-Path");
    const rep = relay.got.find((m) => m.method === 'REPORT');
    t.eq(rep.get('Status'), '000 200 OK');
    t.eq(rep.get('Byte-Range'), '1-11/11');
    t.eq(rep.get('To-Path').split(' ')[0], c.usePath, 'the REPORT goes back along the From-Path');
  }],

  ['Client: keepalive probes, dead relay, reconnect with backoff and re-AUTH, AUTH refresh', async (t) => {
    const { relay, clock, c, states } = await login({ relay: { expires: 60 } });
    const probes = () => relay.got.filter((m) => m.method === 'SEND' && !m.body);
    await clock.advance(1000);
    t.eq(probes().length, 1, 'a bodiless SEND after the idle interval');
    const p = probes()[0];
    t.eq(`${p.get('To-Path')}|${p.get('From-Path')}|${p.get('Byte-Range')}`, `${c.usePath}|${c.ownURI}|1-0/0`);
    await clock.advance(1000);
    t.eq(c.stats.answers, 2);
    t.eq(c.stats.misses, 0);
    // Refresh at four fifths of Expires, to the Use-Path.
    relay.got.length = 0;
    await clock.advance(48000 - clock.now());
    const refresh = relay.got.filter((m) => m.method === 'AUTH');
    t.eq(refresh.length, 2, 'challenge and credentials');
    t.eq(refresh[0].get('To-Path'), 'msrp://relay.test:2855/s1;tcp');
    t.eq(c.state, 'connected');
    // The relay goes silent: dead after 2 misses, then reconnect.
    relay.answerProbes = false;
    const t0 = clock.now();
    while (c.state === 'connected' && clock.now() - t0 < 10000) await clock.advance(50);
    t.ok(clock.now() - t0 <= 2000 + 50, `dead within interval + 2 x timeout (${clock.now() - t0} ms)`);
    t.eq(c.stats.misses, 2);
    t.eq(c.state, 'reconnecting');
    t.ok(relay.sockets[0].closed, 'the dead socket is closed');
    relay.answerProbes = true;
    await clock.advance(1000);
    t.eq(c.state, 'connected');
    t.eq(relay.sockets.length, 2);
    t.eq(c.usePath, 'msrp://relay.test:2855/s2;tcp', 'a new session after re-AUTH');
    t.eq(c.stats.reconnects, 1);
    // A relay that is down: backoff doubles (1 s, 2 s, 4 s).
    relay.WebSocket.prototype.send = function () {};
    const opens = () => relay.sockets.length;
    relay.ws.drop();
    const n0 = opens();
    await clock.advance(999);
    t.eq(opens(), n0);
    await clock.advance(1);
    t.eq(opens(), n0 + 1);
    relay.ws.drop();
    await clock.advance(1999);
    t.eq(opens(), n0 + 1);
    await clock.advance(1);
    t.eq(opens(), n0 + 2);
    t.eq(states.filter((s) => s === 'reconnecting').length >= 3, true);
    c.close();
    t.eq(c.state, 'closed');
  }],
];
