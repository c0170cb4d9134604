// The Lua scripts' loops (bench/lua/roundtrip16.lua, bench/lua/echo64k.lua)
// with the npm `ws` client, against the same Go echo server.
//
//   node bench/node/bench.js roundtrip16|echo64k ws://127.0.0.1:9001/echo [count]
//   node bench/node/bench.js conns100 ws://127.0.0.1:9001/echo [count [conns]]
//
// conns100 is bench/lua/conns100.lua: conns connections (100) doing 16-byte
// round trips, count in all, every connection warmed up before the clock
// starts; ns/op is the wall time per round trip of all of them together.
//
// Prints one line in `go test -bench` format, like the Lua scripts.
'use strict';
const WebSocket = require('ws');

const [kind, url = 'ws://127.0.0.1:9001/echo', count] = process.argv.slice(2);
const cases = {
  roundtrip16: { name: 'ScriptRoundTrip16', n: 20000, msg: '0123456789abcdef', binary: false },
  echo64k: { name: 'ScriptEcho64K', n: 5000, msg: Buffer.alloc(64 * 1024, 0).map((_, i) => i & 0xff), binary: true },
};
if (kind === 'conns100') {
  conns100(url, Number(count) || 100000, Number(process.argv[5]) || 100);
  return;
}
const c = cases[kind];
if (!c) {
  console.error('usage: bench.js roundtrip16|echo64k|conns100 URL [count [conns]]');
  process.exit(2);
}
const n = Number(count) || c.n;
const warm = Math.max(c.binary ? 10 : 100, Math.floor(n / 10));
const size = Buffer.byteLength(c.msg);

const ws = new WebSocket(url, { perMessageDeflate: false });
let left = warm;
let timing = false;
let t0 = 0n;

ws.on('open', () => ws.send(c.msg, { binary: c.binary }));
ws.on('message', (data) => {
  if (data.length !== size) {
    console.error('echo differs');
    process.exit(1);
  }
  if (--left > 0) {
    ws.send(c.msg, { binary: c.binary });
    return;
  }
  if (!timing) {
    timing = true;
    left = n;
    t0 = process.hrtime.bigint();
    ws.send(c.msg, { binary: c.binary });
    return;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  let line = `Benchmark${c.name}/client=node\t${n}\t${(secs * 1e9 / n).toFixed(1)} ns/op`;
  if (c.binary) line += `\t${(size * n / secs / 1e6).toFixed(2)} MB/s`;
  console.log(`${line}\t${(n / secs).toFixed(0)} ops/s`);
  ws.close();
});
ws.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});

function conns100(url, n, conns) {
  const msg = '0123456789abcdef';
  const per = Math.max(1, Math.floor(n / conns));
  const warm = Math.max(10, Math.floor(per / 10));
  let warmed = 0;
  let finished = 0;
  let t0 = 0n;
  const sockets = [];
  const startAll = () => {
    t0 = process.hrtime.bigint();
    for (const s of sockets) {
      s.left = per;
      s.timed = true;
      s.ws.send(msg);
    }
  };
  for (let i = 0; i < conns; i++) {
    const s = { ws: new WebSocket(url, { perMessageDeflate: false }), left: warm, timed: false };
    sockets.push(s);
    s.ws.on('open', () => s.ws.send(msg));
    s.ws.on('message', (data) => {
      if (data.length !== msg.length) {
        console.error('echo differs');
        process.exit(1);
      }
      if (--s.left > 0) {
        s.ws.send(msg);
        return;
      }
      if (!s.timed) {
        if (++warmed === conns) startAll();
        return;
      }
      if (++finished < conns) return;
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const total = per * conns;
      console.log(`BenchmarkScriptConns100/client=node\t${total}\t${(secs * 1e9 / total).toFixed(1)} ns/op\t${(total / secs).toFixed(0)} msgs/s`);
      for (const x of sockets) x.ws.close();
    });
    s.ws.on('error', (err) => {
      console.error(err.message);
      process.exit(1);
    });
  }
}
