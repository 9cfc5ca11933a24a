// msrp.js: an MSRP client for browsers, over WebSocket (RFC 4975, RFC 4976,
// RFC 7977). One ES module, no dependencies but md5.js. See README.md
// ("The JavaScript client") for a worked example.

import { md5 } from './md5.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const CRLF = '\r\n';
const MAX_HEADER = 16 << 10; // the relay's msrp.DefaultMaxHeader

/** ProtocolError is a chunk we cannot take; status is the MSRP code to
 * answer it with (400, 413), or 0 when no response can be framed. */
export class ProtocolError extends Error {
  constructor(status, message, msg = null) {
    super(message);
    this.status = status;
    this.msg = msg; // what was read of the chunk, to answer it
  }
}

/** AuthError is a refused login: retrying with the same password is pointless. */
export class AuthError extends Error {}

/** randomId returns n random URL-safe characters (6 bits each). */
export function randomId(n = 16) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const b = crypto.getRandomValues(new Uint8Array(n));
  let s = '';
  for (const x of b) s += abc[x % 62];
  return s;
}

/** Message is one MSRP chunk: a request (method) or a response (status). */
export class Message {
  constructor(f = {}) {
    this.tid = f.tid || randomId(12);
    this.method = f.method || '';
    this.status = f.status || 0;
    this.comment = f.comment || '';
    this.headers = f.headers || []; // [name, value] in wire order
    this.body = f.body || null; // Uint8Array, or null for a bodiless chunk
    this.flag = f.flag || '$';
  }
  /** get returns the first value of a header, case-insensitively, or ''. */
  get(name) {
    const n = name.toLowerCase();
    const h = this.headers.find(([k]) => k.toLowerCase() === n);
    return h ? h[1] : '';
  }
}

const TID = '[A-Za-z0-9][A-Za-z0-9.+%=-]{3,31}';
const START = new RegExp(`^MSRP (${TID}) (?:([A-Z]+)|([1-9][0-9]{2})(?: ([^\\x00-\\x08\\x0a-\\x1f\\x7f]*))?)$`);
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** parse reads one whole chunk (one WebSocket message, RFC 7977 section 5)
 * from an ArrayBuffer, bytes or a string (text frames are bytes too). */
export function parse(data) {
  const b = typeof data === 'string' ? enc.encode(data) : new Uint8Array(data);
  let pos = 0;
  const line = () => {
    for (let i = pos; i + 1 < b.length && i < MAX_HEADER; i++) {
      if (b[i] === 13 && b[i + 1] === 10) {
        const s = dec.decode(b.subarray(pos, i));
        pos = i + 2;
        return s;
      }
    }
    if (b.length >= MAX_HEADER) throw new ProtocolError(m.tid ? 413 : 0, 'header block too large', m);
    throw new ProtocolError(0, 'chunk ends inside its header block');
  };
  const m = new Message({ tid: '' });
  const start = START.exec(line());
  if (!start) throw new ProtocolError(0, 'bad start line');
  m.tid = start[1];
  if (start[2]) m.method = start[2];
  else { m.status = Number(start[3]); m.comment = start[4] || ''; }
  const bad = (why) => new ProtocolError(400, why, m);
  const endLine = '-------' + m.tid;
  for (;;) {
    const l = line();
    if (l === '') break; // a body follows
    if (l.startsWith(endLine) && l.length === endLine.length + 1) {
      m.flag = l[l.length - 1];
      if (!'$+#'.includes(m.flag)) throw bad('bad end-line flag');
      if (m.get('Content-Type')) throw bad('bodiless chunk with Content-Type');
      return check(m, bad);
    }
    const colon = l.indexOf(':');
    if (colon <= 0) throw bad('header without a colon');
    if (CTL.test(l)) throw bad('control character in a header');
    m.headers.push([l.slice(0, colon), l.slice(colon + 1).trim()]);
  }
  // The end-line closes the WebSocket message: "CRLF -------tid F CRLF".
  const tail = enc.encode(CRLF + endLine);
  let end = b.length;
  if (b[end - 2] === 13 && b[end - 1] === 10) end -= 2;
  const at = end - 1 - tail.length;
  m.flag = String.fromCharCode(b[end - 1]);
  if (at < pos - 2 || !'$+#'.includes(m.flag) || !tail.every((x, i) => b[at + i] === x)) {
    throw bad('body without its end-line');
  }
  m.body = b.subarray(pos, Math.max(pos, at));
  return check(m, bad);
}

function check(m, bad) {
  for (const h of ['To-Path', 'From-Path']) {
    const n = m.headers.filter(([k]) => k.toLowerCase() === h.toLowerCase()).length;
    if (n !== 1) throw bad(n ? `duplicate ${h}` : `no ${h}`);
  }
  if (m.get('Byte-Range') && !parseByteRange(m.get('Byte-Range'))) throw bad('bad Byte-Range');
  return m;
}

/** parseByteRange reads "start-end/total" (end, total: number or null for
 * "*"); null when malformed (RFC 4975 section 9). */
export function parseByteRange(s) {
  const r = /^(\d+)-(\d+|\*)\/(\d+|\*)$/.exec(s);
  if (!r) return null;
  const num = (x) => (x === '*' ? null : Number(x));
  const [start, end, total] = [num(r[1]), num(r[2]), num(r[3])];
  const big = (x) => x !== null && x > Number.MAX_SAFE_INTEGER;
  if (start < 1 || big(start) || big(end) || big(total)) return null;
  if (end !== null && end < start - 1) return null;
  if (total !== null && (start - 1 > total || (end !== null && end > total))) return null;
  return { start, end, total };
}

/** serialize writes a chunk in the canonical form of RFC 4975 section 7. */
export function serialize(m) {
  let h = `MSRP ${m.tid} ${m.method || (m.status + (m.comment ? ' ' + m.comment : ''))}${CRLF}`;
  for (const [k, v] of m.headers) {
    if (/[\r\n]/.test(k + v)) throw new Error(`header ${k}: CR or LF in value`);
    h += `${k}: ${v}${CRLF}`;
  }
  const end = `-------${m.tid}${m.flag}${CRLF}`;
  if (!m.body) return enc.encode(h + end);
  const head = enc.encode(h + CRLF);
  const tail = enc.encode(CRLF + end);
  const out = new Uint8Array(head.length + m.body.length + tail.length);
  out.set(head);
  out.set(m.body, head.length);
  out.set(tail, head.length + m.body.length);
  return out;
}

// indexOf finds needle in hay (both bytes) from from, or -1.
function indexOf(hay, needle, from = 0) {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// ---- Digest AUTH (RFC 4976 section 9.1) ----

/** parseDigest reads "Digest k=v, k="v"" (or bare parameters, as in
 * Authentication-Info) into an object with lower-case keys. */
export function parseDigest(s) {
  const out = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let r; (r = re.exec(s.replace(/^\s*Digest\s+/i, ''))); ) {
    out[r[1].toLowerCase()] = r[2] !== undefined ? r[2].replace(/\\(.)/g, '$1') : r[3];
  }
  return out;
}

/** digestResponse is RFC 2617's request-digest with qop=auth. */
export function digestResponse({ user, realm, password, method, uri, nonce, nc, cnonce }) {
  const ha1 = md5(`${user}:${realm}:${password}`);
  return md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
}

/** digestAuthorization answers challenge ch (qop=auth, cnonce and nc
 * always, uri = the rightmost To-Path URI); it returns the header value
 * and the rspauth the relay must send back. */
export function digestAuthorization(ch, { user, password, method = 'AUTH', uri, nc = 1, cnonce = randomId(16) }) {
  if (!ch.nonce) throw new Error('401 without a Digest challenge');
  if (ch.algorithm && ch.algorithm.toUpperCase() !== 'MD5') throw new Error(`unsupported Digest algorithm ${ch.algorithm}`);
  const q = (s) => s.replace(/[\\"]/g, '\\$&');
  const p = { user, realm: ch.realm || '', password, uri, nonce: ch.nonce, nc: nc.toString(16).padStart(8, '0'), cnonce };
  const response = digestResponse({ ...p, method });
  let header = `Digest username="${q(user)}", realm="${q(p.realm)}", nonce="${q(p.nonce)}", uri="${q(uri)}", ` +
    `response="${response}", qop=auth, nc=${p.nc}, cnonce="${cnonce}", algorithm=MD5`;
  if (ch.opaque !== undefined) header += `, opaque="${q(ch.opaque)}"`;
  return { header, rspauth: digestResponse({ ...p, method: '' }) };
}

// ---- CPIM (RFC 3862): who sent a message, and when ----

/** cpimWrap wraps content in message/cpim with From, To and DateTime;
 * mime holds the inner MIME headers (Content-Type first). */
export function cpimWrap({ from, to = 'anonymous', date = new Date() }, mime, content) {
  const clean = (s) => String(s).replace(/[\r\n<>"]/g, '');
  let h = `From: "${clean(from)}" <im:${encodeURIComponent(from)}>${CRLF}To: <im:${encodeURIComponent(to)}>${CRLF}` +
    `DateTime: ${date.toISOString()}${CRLF}${CRLF}`;
  for (const [k, v] of mime) h += `${k}: ${clean(v)}${CRLF}`;
  const head = enc.encode(h + CRLF);
  const body = typeof content === 'string' ? enc.encode(content) : content;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** cpimParse splits a message/cpim body into its headers (from, date and
 * the inner MIME headers, lower-case keys) and its content (a view). */
export function cpimParse(body) {
  const sep = enc.encode(CRLF + CRLF);
  const a = indexOf(body.subarray(0, 8192), sep);
  const b = a < 0 ? -1 : indexOf(body.subarray(0, 16384), sep, a + 4);
  if (b < 0) return null;
  const headers = {};
  for (const l of dec.decode(body.subarray(0, b)).split(CRLF)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  const from = /^\s*"?([^"<]*?)"?\s*(?:<|$)/.exec(headers.from || '');
  return { from: from ? from[1] : '', date: headers.datetime ? new Date(headers.datetime) : null, headers, content: body.subarray(b + 4) };
}

// ---- receiving: reassembly by Message-ID and Byte-Range ----

/** Assembly collects the chunks of one incoming message in any order;
 * the last data received for a byte wins (RFC 4975 section 7.3.1). */
export class Assembly {
  constructor(limit) {
    this.limit = limit;
    this.buf = new Uint8Array(0);
    this.have = []; // sorted, merged [first, last] byte ranges (1-based)
    this.total = null;
    this.first = null; // the chunk with Content-Type
  }
  /** add stores chunk m; it returns true once the message is whole and
   * throws a ProtocolError (413) when it would pass the limit. */
  add(m, br) {
    const n = m.body.length;
    const total = br.total ?? (m.flag === '$' ? br.start - 1 + n : null);
    if (total !== null) this.total = total;
    const need = Math.max(br.start - 1 + n, this.total ?? 0);
    if (need > this.limit) throw new ProtocolError(413, `message larger than ${this.limit} bytes`);
    if (this.total !== null && br.start - 1 + n > this.total) throw new ProtocolError(400, 'chunk beyond the Byte-Range total');
    if (need > this.buf.length) {
      const grown = new Uint8Array(this.total !== null ? this.total : Math.max(need, 2 * this.buf.length));
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf.set(m.body, br.start - 1);
    if (m.get('Content-Type')) this.first = this.first || m;
    if (n > 0) this.#mark(br.start, br.start + n - 1);
    return this.total !== null && this.received() === this.total;
  }
  /** received is how many distinct bytes have arrived. */
  received() {
    return this.have.reduce((s, [a, b]) => s + b - a + 1, 0);
  }
  /** bytes is the whole message, once add returned true. */
  bytes() {
    return this.buf.subarray(0, this.total);
  }
  #mark(a, b) {
    const out = [];
    for (const r of this.have) {
      if (r[1] < a - 1 || r[0] > b + 1) out.push(r);
      else { a = Math.min(a, r[0]); b = Math.max(b, r[1]); }
    }
    out.push([a, b]);
    this.have = out.sort((x, y) => x[0] - y[0]);
  }
}

// ---- keepalive: bodiless SEND probes when idle ----

/** Keepalive decides when to probe. After interval ms with nothing
 * received it calls probe(); an answer (answered()) or any received chunk
 * (activity()) proves the peer alive; a probe not answered within timeout
 * is a miss, and after misses misses in a row it calls dead() and stops.
 * The clock ({now, setTimeout, clearTimeout}) is replaceable for tests. */
export class Keepalive {
  constructor({ interval = 20000, timeout = 20000, misses = 2 } = {}, clock, hooks) {
    Object.assign(this, { interval, timeout, maxMisses: misses, clock, hooks });
    this.stats = { probes: 0, answers: 0, misses: 0, lastProbe: null, lastAnswer: null, rtt: null };
    this.running = false;
  }
  start() {
    this.running = true;
    this.lastIn = this.clock.now();
    this.misses = 0;
    this.sentAt = null;
    this.#arm(this.interval);
  }
  stop() {
    this.running = false;
    this.clock.clearTimeout(this.timer);
  }
  activity() {
    this.lastIn = this.clock.now();
    this.misses = 0;
  }
  answered() {
    if (this.sentAt === null) return;
    const now = this.clock.now();
    Object.assign(this.stats, { answers: this.stats.answers + 1, lastAnswer: now, rtt: now - this.sentAt });
    this.sentAt = null;
    this.activity();
    this.hooks.changed?.(this.stats);
    if (this.running) this.#arm(this.interval);
  }
  #arm(ms) {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.#tick(), Math.max(ms, 0));
  }
  #tick() {
    if (!this.running) return;
    const now = this.clock.now();
    if (this.sentAt !== null) {
      if (now - this.sentAt < this.timeout) return this.#arm(this.timeout - (now - this.sentAt));
      const alive = this.lastIn > this.sentAt; // traffic since the probe
      this.sentAt = null;
      if (!alive) {
        this.misses++;
        this.stats.misses++;
        this.hooks.changed?.(this.stats);
        if (this.misses >= this.maxMisses) {
          this.stop();
          return this.hooks.dead(this.misses);
        }
      }
    }
    if (now - this.lastIn < this.interval) return this.#arm(this.interval - (now - this.lastIn));
    this.sentAt = now;
    Object.assign(this.stats, { probes: this.stats.probes + 1, lastProbe: now });
    this.hooks.probe();
    this.hooks.changed?.(this.stats);
    this.#arm(this.timeout);
  }
}

const realClock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t),
};

/** relayURIFor is the URI an AUTH goes to for a relay WebSocket URL
 * (RFC 7977 section 8): msrps for wss, the URL's host name, transport ws.
 * The port is left out, as only an AUTH may (RFC 4976 section 8): the
 * port a browser sees is often a TLS proxy's, not the relay's. */
export function relayURIFor(wsURL) {
  const u = new URL(wsURL);
  return `${u.protocol === 'wss:' ? 'msrps' : 'msrp'}://${u.hostname};ws`;
}

/** Client is one user's connection to an MSRP relay over WebSocket: it
 * AUTHs, keeps the connection alive and reconnects, sends and receives
 * messages. Events (CustomEvent, data in detail):
 *   state     {state, error}: connecting, authenticating, connected,
 *             reconnecting (with retryIn ms), failed, closed
 *   path      {path}: our full path, to give to peers (changes on reconnect)
 *   message   {messageId, from, contentType, headers, body}
 *   progress  {messageId, direction: 'in'|'out', bytes, total}
 *   delivery  {messageId, state: sent|delivered|failed, code, reason}
 *   keepalive {probes, answers, misses, lastProbe, lastAnswer, rtt, reconnects}
 *   error     {message}: something went wrong that the page should show */
export class Client extends EventTarget {
  constructor(opts) {
    super();
    this.o = {
      expires: 0, chunkSize: 64 << 10, window: 8, maxMessage: 64 << 20, txTimeout: 30000,
      keepalive: {}, backoff: { min: 1000, max: 30000 }, clock: realClock,
      WebSocket: globalThis.WebSocket, ...opts,
    };
    this.o.relayURI ||= relayURIFor(this.o.url);
    const scheme = this.o.relayURI.startsWith('msrps') ? 'msrps' : 'msrp';
    this.ownURI = `${scheme}://${randomId(12).toLowerCase()}.invalid:2855/${randomId(16)};ws`;
    this.state = 'idle';
    this.usePath = ''; // the relay's Use-Path (RFC 4976), '' until AUTHed
    this.reconnects = 0;
    this.txs = new Map(); // tid -> {resolve, reject, timer} or {chunk of an outgoing message}
    this.queue = []; // outgoing messages with chunks left to send
    this.outgoing = new Map(); // Message-ID -> outgoing message, until its fate is known
    this.incoming = new Map(); // Message-ID -> Assembly
    this.inflight = 0;
    this.ka = new Keepalive(this.o.keepalive, this.o.clock, {
      probe: () => this.#probe(),
      dead: (n) => this.#lost(`relay did not answer ${n} keepalive probes`),
      changed: () => this.#emit('keepalive', this.stats),
    });
  }

  /** stats are the keepalive counters and the number of reconnects. */
  get stats() {
    return { ...this.ka.stats, reconnects: this.reconnects };
  }

  /** path is our full path for peers: the Use-Path reversed, then our URI. */
  get path() {
    return this.usePath ? [...this.usePath.split(/\s+/).reverse(), this.ownURI].join(' ') : '';
  }

  connect() {
    if (this.state !== 'idle' && this.state !== 'closed' && this.state !== 'failed') return;
    this.attempt = 0;
    this.#dial();
  }

  /** close ends the connection for good (no reconnect). */
  close() {
    this.#set('closed');
    this.#teardown('closed by the user');
  }

  /** send sends body (string or bytes) to a peer's path; it returns the
   * Message-ID. opts: contentType (default text/plain), headers (extra MIME
   * headers, e.g. Content-Disposition), report (ask for a success REPORT). */
  send(to, body, opts = {}) {
    if (this.state !== 'connected') throw new Error(`not connected (${this.state})`);
    const uris = String(to).trim().split(/\s+/);
    if (!uris[0] || !uris.every((u) => /^msrps?:\/\/[^\s/]+(\/[^\s]*)?$/i.test(u))) {
      throw new Error(`not an MSRP path: "${to}"`);
    }
    const m = {
      id: randomId(16), to: `${this.usePath} ${uris.join(' ')}`,
      data: typeof body === 'string' ? enc.encode(body) : body,
      contentType: opts.contentType || 'text/plain;charset=utf-8', mime: opts.headers || [],
      report: opts.report !== false, next: 0, acked: 0, state: 'sending',
    };
    this.outgoing.set(m.id, m);
    this.queue.push(m);
    this.#pump();
    return m.id;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
  #set(state, extra = {}) {
    this.state = state;
    this.#emit('state', { state, ...extra });
  }

  #dial() {
    this.#set('connecting');
    let ws;
    try {
      ws = new this.o.WebSocket(this.o.url, 'msrp');
    } catch (e) {
      return this.#lost(`cannot open ${this.o.url}: ${e.message}`);
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => this.#login();
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      const was = this.state;
      this.#lost(was === 'connecting'
        ? `cannot connect to ${this.o.url} (relay down, or this page's origin not admitted: msrpd --ws-origin)`
        : `connection closed${ev.code ? ` (code ${ev.code}${ev.reason ? ' ' + ev.reason : ''})` : ''}`);
    };
  }

  async #login() {
    this.#set('authenticating');
    try {
      await this.#auth(this.o.relayURI);
      this.attempt = 0;
      if (this.wasConnected) this.reconnects++;
      this.wasConnected = true;
      this.#set('connected');
      this.#emit('path', { path: this.path });
      this.#emit('keepalive', this.stats);
      this.ka.start();
    } catch (e) {
      if (e instanceof AuthError) {
        this.#emit('error', { message: e.message });
        this.#set('failed', { error: e.message });
        this.#teardown(e.message);
      } else {
        this.#lost(`login: ${e.message}`);
      }
    }
  }

  // auth runs the AUTH exchange (RFC 4976 sections 5.1, 9.1) to To-Path
  // `to`: challenge, credentials, 200 with Use-Path and Expires; 423 is
  // retried with the relay's bound, a stale nonce with the new challenge.
  async #auth(to) {
    let expires = this.o.expires, ch = null, creds = null;
    for (let round = 0; round < 5; round++) {
      const h = [['To-Path', to], ['From-Path', this.ownURI]];
      if (ch) {
        creds = digestAuthorization(ch, { user: this.o.user, password: this.o.password, uri: to.split(/\s+/).pop() });
        h.push(['Authorization', creds.header]);
      }
      if (expires) h.push(['Expires', String(expires)]);
      const r = await this.#request(new Message({ method: 'AUTH', headers: h }));
      if (r.status === 401) {
        const stale = ch !== null;
        ch = parseDigest(r.get('WWW-Authenticate'));
        if (stale && !/^true$/i.test(ch.stale || '')) {
          throw new AuthError(`wrong user name or password for "${this.o.user}" (relay answered 401)`);
        }
        continue;
      }
      if (r.status === 423) {
        const b = Number(r.get('Min-Expires') || r.get('Max-Expires'));
        if (!b || b === expires) throw new Error(`423 ${r.comment} without a usable bound`);
        expires = b;
        continue;
      }
      if (r.status !== 200) throw new AuthError(`AUTH refused: ${r.status} ${r.comment}`);
      const info = r.get('Authentication-Info');
      if (creds && info && parseDigest(info).rspauth !== creds.rspauth) {
        throw new AuthError("the relay's rspauth is wrong: it does not know the password");
      }
      if (!r.get('Use-Path')) throw new Error('200 to AUTH without Use-Path');
      this.usePath = r.get('Use-Path').trim();
      const secs = Number(r.get('Expires'));
      if (secs > 0) this.#refreshIn(secs);
      return;
    }
    throw new Error('AUTH did not succeed in 5 rounds');
  }

  // refreshIn re-AUTHs to our Use-Path URI before it expires (at four
  // fifths of its life), which keeps the same path.
  #refreshIn(secs) {
    this.o.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = this.o.clock.setTimeout(async () => {
      if (this.state !== 'connected') return;
      try {
        await this.#auth(this.usePath);
      } catch (e) {
        this.#lost(`AUTH refresh: ${e.message}`);
      }
    }, secs * 800);
  }

  // request sends a non-SEND request and resolves with its response.
  #request(m) {
    return new Promise((resolve, reject) => {
      const timer = this.o.clock.setTimeout(() => {
        this.txs.delete(m.tid);
        reject(new Error(`no response to ${m.method} in ${this.o.txTimeout} ms`));
      }, this.o.txTimeout);
      this.txs.set(m.tid, { resolve, reject, timer });
      this.#write(m);
    });
  }

  #write(m) {
    this.ws?.send(serialize(m));
  }

  // probe sends a bodiless SEND to the relay (RFC 4975 section 7.1, as
  // RFC 7977 section 6 allows): browsers cannot send Ping frames.
  #probe() {
    const m = new Message({ method: 'SEND', headers: [['To-Path', this.usePath.split(/\s+/)[0]],
      ['From-Path', this.ownURI], ['Message-ID', randomId(12)], ['Byte-Range', '1-0/0']] });
    this.probeTid = m.tid;
    this.#write(m);
  }

  // pump sends chunks, round robin across messages, while fewer than
  // window chunks wait for their 200.
  #pump() {
    while (this.inflight < this.o.window && this.queue.length && this.state === 'connected') {
      const m = this.queue.shift();
      const n = Math.min(this.o.chunkSize, m.data.length - m.next);
      const body = m.data.subarray(m.next, m.next + n);
      const last = m.next + n === m.data.length;
      const h = [['To-Path', m.to], ['From-Path', this.ownURI], ['Message-ID', m.id]];
      if (m.report) h.push(['Success-Report', 'yes']);
      h.push(['Failure-Report', 'yes'], ['Byte-Range', `${m.next + 1}-${m.next + n}/${m.data.length}`]);
      if (m.next === 0) h.push(...m.mime);
      h.push(['Content-Type', m.contentType]);
      let c;
      do c = new Message({ method: 'SEND', headers: h, body, flag: last ? '$' : '+' });
      while (indexOf(body, enc.encode(CRLF + '-------' + c.tid)) >= 0); // keep the end-line out of the body
      const timer = this.o.clock.setTimeout(() => this.#failed(m, 408, 'no response from the relay'), this.o.txTimeout);
      this.txs.set(c.tid, { out: m, end: m.next + n, timer });
      this.inflight++;
      m.next += n;
      this.#write(c);
      if (!last) this.queue.push(m);
    }
  }

  #failed(m, code, reason) {
    if (m.state !== 'sending' && m.state !== 'sent') return;
    m.state = 'failed';
    this.queue = this.queue.filter((x) => x !== m);
    this.outgoing.delete(m.id);
    this.#emit('delivery', { messageId: m.id, state: 'failed', code, reason });
  }

  #receive(data) {
    let m;
    try {
      m = parse(data);
    } catch (e) {
      this.#emit('error', { message: `bad chunk from the relay: ${e.message}` });
      if (e.status && e.msg?.method) this.#respond(e.msg, e.status, e.message);
      return;
    }
    this.ka.activity();
    if (m.status) return this.#response(m);
    if (m.method === 'SEND') return this.#onSend(m);
    if (m.method === 'REPORT') return this.#onReport(m);
    this.#respond(m, 501, 'not implemented');
  }

  #response(r) {
    if (r.tid === this.probeTid) {
      this.probeTid = null;
      this.ka.answered();
      if (r.status === 481) this.#lost('the relay forgot our session (481)');
      return;
    }
    const t = this.txs.get(r.tid);
    if (!t) return;
    this.txs.delete(r.tid);
    this.o.clock.clearTimeout(t.timer);
    if (t.resolve) return t.resolve(r);
    const m = t.out;
    this.inflight--;
    if (r.status !== 200) this.#failed(m, r.status, r.comment);
    else if (m.state === 'sending') {
      m.acked = Math.max(m.acked, t.end);
      this.#emit('progress', { messageId: m.id, direction: 'out', bytes: m.acked, total: m.data.length });
      if (m.acked === m.data.length) {
        m.state = 'sent';
        this.#emit('delivery', { messageId: m.id, state: 'sent' });
        if (!m.report) this.outgoing.delete(m.id);
      }
    }
    this.#pump();
  }

  // respond answers a request hop by hop: To-Path is the previous hop only
  // (RFC 4975 section 7.2).
  #respond(req, status, comment) {
    const fr = req.get('Failure-Report');
    if (fr === 'no' || (fr === 'partial' && status === 200)) return;
    const to = req.get('From-Path').split(/\s+/)[0];
    if (!to) return;
    this.#write(new Message({ tid: req.tid, status, comment, headers: [['To-Path', to], ['From-Path', this.ownURI]] }));
  }

  #onSend(m) {
    const to = m.get('To-Path').split(/\s+/);
    if (to[to.length - 1] !== this.ownURI) return this.#respond(m, 481, 'not our URI');
    if (!m.body) return this.#respond(m, 200, 'OK'); // a peer's keepalive
    const id = m.get('Message-ID');
    if (!id) return this.#respond(m, 400, 'no Message-ID');
    const br = parseByteRange(m.get('Byte-Range') || `1-*/${m.flag === '$' ? m.body.length : '*'}`);
    let a = this.incoming.get(id);
    if (m.flag === '#') {
      this.incoming.delete(id);
      this.#respond(m, 200, 'OK');
      return this.#emit('error', { message: `the sender aborted message ${id}` });
    }
    try {
      if (!a) this.incoming.set(id, (a = new Assembly(this.o.maxMessage)));
      const whole = a.add(m, br);
      this.#respond(m, 200, 'OK');
      this.#emit('progress', { messageId: id, direction: 'in', bytes: a.received(), total: a.total });
      if (!whole) return;
    } catch (e) {
      this.incoming.delete(id);
      return this.#respond(m, e.status || 400, e.message);
    }
    this.incoming.delete(id);
    const head = a.first || m;
    const from = m.get('From-Path').split(/\s+/);
    const mine = new Set(this.usePath.split(/\s+/));
    while (from.length > 1 && mine.has(from[0])) from.shift();
    if (head.get('Success-Report') === 'yes') {
      this.#write(new Message({ method: 'REPORT', headers: [['To-Path', m.get('From-Path')], ['From-Path', this.ownURI],
        ['Message-ID', id], ['Byte-Range', `1-${a.total}/${a.total}`], ['Status', '000 200 OK']] }));
    }
    this.#emit('message', { messageId: id, from: from.join(' '), contentType: head.get('Content-Type'),
      headers: head.headers, body: a.bytes() });
  }

  #onReport(r) {
    const m = this.outgoing.get(r.get('Message-ID'));
    const s = /^\d{3} (\d{3})(?: (.*))?$/.exec(r.get('Status'));
    if (!m || !s) return; // unknown Message-ID: ignore (RFC 4975 section 7.1.2)
    if (s[1] === '200') {
      if (m.state === 'failed') return;
      m.state = 'delivered';
      this.outgoing.delete(m.id);
      this.#emit('delivery', { messageId: m.id, state: 'delivered' });
    } else this.#failed(m, Number(s[1]), s[2] || '');
  }

  // lost handles a connection that died: everything in flight fails, and
  // a new connection is tried after a backoff (1 s doubling to 30 s).
  #lost(why) {
    if (this.state === 'closed' || this.state === 'failed' || this.state === 'reconnecting') return;
    this.#teardown(why);
    const b = this.o.backoff;
    const wait = Math.min(b.max, b.min * 2 ** this.attempt++);
    this.#emit('error', { message: why });
    this.#set('reconnecting', { error: why, retryIn: wait });
    this.retryTimer = this.o.clock.setTimeout(() => this.#dial(), wait);
  }

  #teardown(why) {
    const clk = this.o.clock;
    this.ka.stop();
    clk.clearTimeout(this.refreshTimer);
    clk.clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
    for (const t of this.txs.values()) {
      clk.clearTimeout(t.timer);
      if (t.reject) t.reject(new Error(why));
    }
    this.txs.clear();
    // Chunks not yet accepted by the relay fail; a message it accepted
    // whose success REPORT can no longer reach us stays "sent".
    for (const m of [...this.outgoing.values()]) if (m.state === 'sending') this.#failed(m, 0, why);
    this.outgoing.clear();
    this.queue = [];
    this.incoming.clear();
    this.inflight = 0;
    this.usePath = '';
    this.probeTid = null;
  }
}
