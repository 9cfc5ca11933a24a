// The chat page: log in, show our address, chat and send files with one
// peer at a time, show the connection and keepalive state. All the MSRP is
// in msrp.js; this file is DOM only.

import { Client, cpimWrap, cpimParse } from './msrp.js';

const $ = (id) => document.getElementById(id);
const dec = new TextDecoder();
const time = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
let client = null;
let user = '';
const rows = new Map(); // Message-ID -> <li>, for progress and delivery state

// Tuning for tests and odd networks: ?keepalive=MS&timeout=MS&misses=N&backoff=MS
const q = new URLSearchParams(location.search);
const num = (k) => (q.has(k) ? Number(q.get(k)) : undefined);
const tuning = {
  keepalive: Object.fromEntries(Object.entries({ interval: num('keepalive'), timeout: num('timeout'), misses: num('misses') })
    .filter(([, v]) => v > 0)),
  ...(num('backoff') > 0 ? { backoff: { min: num('backoff'), max: 30 * num('backoff') } } : {}),
};

const defaultRelay = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
$('user').value = localStorage.getItem('msrpd.user') || '';
$('relay').value = localStorage.getItem('msrpd.relay') || defaultRelay;
const hashTo = new URLSearchParams(location.hash.slice(1)).get('to');
if (hashTo) $('to').value = hashTo;
($('user').value ? $('password') : $('user')).focus();

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  user = $('user').value.trim();
  const relay = $('relay').value.trim() || defaultRelay;
  localStorage.setItem('msrpd.user', user);
  if (relay === defaultRelay) localStorage.removeItem('msrpd.relay');
  else localStorage.setItem('msrpd.relay', relay);
  try {
    client = new Client({ url: relay, user, password: $('password').value, ...tuning });
  } catch (err) {
    $('login-error').textContent = `Bad relay URL: ${err.message}`;
    return;
  }
  $('login').disabled = true;
  wire(client);
  client.connect();
});

$('logout').addEventListener('click', () => {
  client?.close();
  client = null;
  $('chat').hidden = true;
  $('login-form').hidden = false;
  $('login').disabled = false;
  $('password').value = '';
});

function wire(c) {
  let everConnected = false;
  c.addEventListener('state', ({ detail: d }) => {
    if (c !== client) return;
    const st = $('state');
    st.dataset.state = d.state;
    st.textContent = {
      connecting: 'connecting…', authenticating: 'logging in…', connected: `connected as ${user}`,
      reconnecting: `offline: ${d.error}; retrying in ${Math.round(d.retryIn / 100) / 10} s`,
      failed: `failed: ${d.error}`, closed: 'logged out',
    }[d.state] || d.state;
    if (d.state === 'connected') {
      if (!everConnected) $('text').focus();
      everConnected = true;
      $('login-form').hidden = true;
      $('chat').hidden = false;
    }
    if (d.state === 'reconnecting' && everConnected) note(`connection lost: ${d.error}`);
    if (d.state === 'reconnecting' && !everConnected) {
      // A first login that cannot reach the relay: say so and stop.
      $('login-error').textContent = d.error;
      c.close();
      $('login').disabled = false;
    }
    if (d.state === 'failed') {
      $('login-error').textContent = d.error;
      $('chat').hidden = true;
      $('login-form').hidden = false;
      $('login').disabled = false;
      $('password').select();
    }
  });
  c.addEventListener('path', ({ detail: { path } }) => {
    const changed = $('my-path').textContent && $('my-path').textContent !== path;
    $('my-path').textContent = path;
    $('share').href = `${location.origin}${location.pathname}#to=${encodeURIComponent(path)}`;
    if (changed) note('reconnected: your address changed; give the new one to your peers');
  });
  c.addEventListener('keepalive', ({ detail: k }) => {
    const last = k.lastProbe ? `last probe ${time(new Date(k.lastProbe))}` : 'no probe yet';
    const rtt = k.lastAnswer && k.lastAnswer >= k.lastProbe ? `, answered in ${k.rtt} ms` : '';
    const el = $('keepalive');
    el.textContent = `keepalive: ${last}${rtt} · probes ${k.probes} · answers ${k.answers} · misses ${k.misses} · reconnects ${k.reconnects}`;
    Object.assign(el.dataset, { probes: k.probes, answers: k.answers, misses: k.misses, reconnects: k.reconnects });
  });
  c.addEventListener('message', ({ detail: m }) => receive(m));
  c.addEventListener('progress', ({ detail: p }) => progress(p));
  c.addEventListener('delivery', ({ detail: d }) => delivery(d));
  c.addEventListener('error', ({ detail: { message } }) => flash(message));
}

function flash(msg) {
  $('error').textContent = msg;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => { $('error').textContent = ''; }, 8000);
}

function note(text) {
  const li = document.createElement('li');
  li.className = 'note';
  li.textContent = `${time(new Date())} ${text}`;
  add(li);
}

// The view follows new messages unless the user scrolled up to read.
let stick = true;
$('messages').addEventListener('scroll', () => {
  const box = $('messages');
  stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
});
const follow = () => { if (stick) $('messages').scrollTop = $('messages').scrollHeight; };

function add(li) {
  if (li.classList.contains('out')) stick = true;
  $('messages').append(li);
  follow();
}

// row makes the <li> of a message: sender, time, content, status.
function row(dir, from, date, id) {
  const li = document.createElement('li');
  li.className = `msg ${dir}`;
  li.dataset.from = from;
  li.dataset.id = id;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = from;
  const t = document.createElement('time');
  t.dateTime = date.toISOString();
  t.textContent = time(date);
  const body = document.createElement('div');
  body.className = 'body';
  const status = document.createElement('span');
  status.className = 'status';
  li.append(who, t, body, status);
  rows.set(id, li);
  add(li);
  return li;
}

function fileLink(body, name, type, size) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([body], { type: type || 'application/octet-stream' }));
  a.download = name;
  a.textContent = `${name} (${size(body.length)})`;
  return a;
}
const size = (n) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

function receive(m) {
  let from = 'unknown', date = new Date(), type = m.contentType, headers = {}, content = m.body;
  const p = /^message\/cpim/i.test(m.contentType) ? cpimParse(m.body) : null;
  if (p) {
    ({ content, headers } = p);
    from = p.from || from;
    if (p.date && !isNaN(p.date)) date = p.date;
    type = headers['content-type'] || '';
  }
  const li = rows.get(m.messageId) || row('in', from, date, m.messageId);
  li.dataset.from = from;
  li.querySelector('.who').textContent = from;
  li.dataset.path = m.from;
  const body = li.querySelector('.body');
  const disp = /filename="?([^";]+)"?/.exec(headers['content-disposition'] || '');
  if (disp || !/^text\//i.test(type || 'text/plain')) {
    body.replaceChildren(fileLink(content, disp ? disp[1] : 'file', type, size));
  } else body.textContent = dec.decode(content);
  li.querySelector('.status').textContent = '';
  rows.delete(m.messageId);
  follow();
  if (!$('to').value.trim()) $('to').value = m.from; // reply to whoever wrote first
}

function progress(p) {
  let li = rows.get(p.messageId);
  if (!li && p.direction === 'in') {
    if (p.total !== null && p.bytes >= p.total) return; // whole in one chunk
    li = row('in', '…', new Date(), p.messageId);
  }
  if (!li) return;
  let bar = li.querySelector('progress');
  if (!bar) {
    bar = document.createElement('progress');
    li.querySelector('.body').append(bar);
  }
  bar.max = p.total || p.bytes * 2;
  bar.value = p.bytes;
  if (p.total) li.querySelector('.status').textContent = `${Math.floor((100 * p.bytes) / p.total)}%`;
}

function delivery(d) {
  const li = rows.get(d.messageId);
  if (!li) return;
  const s = li.querySelector('.status');
  s.textContent = { sent: 'sent', delivered: 'delivered ✓', failed: `not delivered: ${d.code ? d.code + ' ' : ''}${d.reason}` }[d.state];
  s.classList.toggle('failed', d.state === 'failed');
  li.dataset.state = d.state;
  li.querySelector('progress')?.remove();
  if (d.state !== 'sent') rows.delete(d.messageId);
  follow();
}

function send(content, mime, show) {
  const to = $('to').value.trim();
  if (!to) return flash('Enter the address of the person to write to (they see theirs after logging in).');
  if (!client || client.state !== 'connected') return flash('Not connected.');
  let id;
  try {
    id = client.send(to, cpimWrap({ from: user }, mime, content), { contentType: 'message/cpim' });
  } catch (err) {
    return flash(err.message);
  }
  const li = row('out', user, new Date(), id);
  show(li.querySelector('.body'));
  li.querySelector('.status').textContent = 'sending…';
  return id;
}

$('compose').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('text').value;
  if (!text.trim()) return;
  if (send(text, [['Content-Type', 'text/plain;charset=utf-8']], (b) => { b.textContent = text; })) $('text').value = '';
});

async function sendFile(f) {
  const data = new Uint8Array(await f.arrayBuffer());
  const name = f.name.replace(/["\\\r\n]/g, '_');
  send(data, [['Content-Type', f.type || 'application/octet-stream'], ['Content-Disposition', `attachment; filename="${name}"`]],
    (b) => b.append(fileLink(data, name, f.type, size)));
}

$('file').addEventListener('change', () => {
  for (const f of $('file').files) sendFile(f);
  $('file').value = '';
});
document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  if (client?.state === 'connected') for (const f of e.dataTransfer.files) sendFile(f);
});

$('copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('my-path').textContent);
    flash('Address copied.');
  } catch {
    getSelection().selectAllChildren($('my-path'));
    flash('Copy the selected address.');
  }
});
$('share').addEventListener('click', (e) => {
  e.preventDefault();
  navigator.clipboard?.writeText($('share').href).then(() => flash('Link copied: whoever opens it can write to you.'), () => {});
});
