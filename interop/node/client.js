'use strict';
// Interop peer: a Node `ws` client with permessage-deflate, for
// interop/compression_test.go. Usage: node client.js CONFIG, CONFIG being
// JSON: {"url": "ws://...", "pmd": {perMessageDeflate options of ws},
// "messages": [{"kind": K, "size": N}, ...]}, K one of text, text-random,
// binary, binary-random (the first and third compressible) or repeat (the
// previous payload again). It connects, sends each message and waits for
// its echo, which must be identical (type and bytes), then closes with
// 1000. It prints one JSON line and exits 0:
// {"ok": bool, "error": "...", "params": {the negotiated parameters, as ws
// sees them, or null}, "localPort": n, "echoed": n, "closeCode": n}.

const crypto = require('crypto');
const WebSocket = require('ws');

const cfg = JSON.parse(process.argv[2]);

// Exactly n bytes of UTF-8, from random code points (not LZ-compressible).
function randomText(n) {
  const out = Buffer.alloc(n);
  let len = 0;
  while (len < n) {
    let cp;
    switch (crypto.randomInt(4)) {
      case 0: cp = 0x20 + crypto.randomInt(0x5f); break;
      case 1: cp = 0x80 + crypto.randomInt(0x780); break;
      case 2: cp = 0x800 + crypto.randomInt(0xd000); break;
      default: cp = 0x10000 + crypto.randomInt(0x100000);
    }
    let b = Buffer.from(String.fromCodePoint(cp), 'utf8');
    if (len + b.length > n) b = Buffer.from('x');
    b.copy(out, len);
    len += b.length;
  }
  return out;
}

// Exactly n bytes of repetitive UTF-8 text.
function text(n) {
  const unit = Buffer.from('Lorem ipsum dolor sit amet, é € 𝄞 ', 'utf8');
  const out = Buffer.alloc(n, 'x');
  for (let at = 0; at + unit.length <= n; at += unit.length) unit.copy(out, at);
  return out;
}

// n bytes of low-entropy binary data.
function binary(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i >> 4) & 0x0f ? i & 0x3f : 0xff;
  return out;
}

function payload(kind, n, prev) {
  switch (kind) {
    case 'text': return { data: text(n), binary: false };
    case 'text-random': return { data: randomText(n), binary: false };
    case 'binary': return { data: binary(n), binary: true };
    case 'binary-random': return { data: crypto.randomBytes(n), binary: true };
    case 'repeat': return prev;
    default: throw new Error('unknown kind ' + kind);
  }
}

const report = { ok: false, error: '', params: null, localPort: 0, echoed: 0, closeCode: 0 };
let done = false;
function finish(err) {
  if (done) return;
  done = true;
  if (err) report.error = String(err && err.message ? err.message : err);
  report.ok = !report.error && report.echoed === cfg.messages.length && report.closeCode === 1000;
  process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0));
}
setTimeout(() => finish(new Error('timeout')), 60000).unref();

const ws = new WebSocket(cfg.url, { perMessageDeflate: cfg.pmd, maxPayload: 64 * 1024 * 1024 });
let expect = null;
let prev = null;

function sendNext() {
  if (report.echoed === cfg.messages.length) {
    ws.close(1000, 'done');
    return;
  }
  const m = cfg.messages[report.echoed];
  expect = payload(m.kind, m.size, prev);
  prev = expect;
  ws.send(expect.data, { binary: expect.binary });
}

ws.on('upgrade', (res) => {
  report.localPort = res.socket.localPort;
});
ws.on('open', () => {
  const pmd = ws._extensions['permessage-deflate'];
  report.params = pmd ? pmd.params : null;
  sendNext();
});
ws.on('message', (data, isBinary) => {
  const i = report.echoed;
  if (!expect) return finish(new Error(`unexpected message ${i}`));
  if (isBinary !== expect.binary) return finish(new Error(`echo ${i}: binary=${isBinary}, want ${expect.binary}`));
  if (!data.equals(expect.data)) {
    let at = 0;
    while (at < data.length && at < expect.data.length && data[at] === expect.data[at]) at++;
    return finish(new Error(`echo ${i}: ${data.length} bytes, want ${expect.data.length}, first difference at ${at}`));
  }
  report.echoed++;
  expect = null;
  sendNext();
});
ws.on('close', (code) => {
  report.closeCode = code;
  finish(null);
});
ws.on('error', (err) => finish(err));
