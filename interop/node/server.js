'use strict';
// Interop peer: a Node `ws` server implementing the contract of the wslua
// interop tests (see interop/doc.go). It listens on a free port of
// 127.0.0.1, prints the port alone on the first line of stdout, then one
// JSON line per ended session: {"event":"close","id":..,"code":..,"reason":..},
// the close frame the client sent (1005: no code, 1006: none).
// It exits when stdin ends (the test closes it) or on SIGTERM.
//
// permessage-deflate is off unless the query has pmd=JSON: the
// perMessageDeflate options of ws (serverNoContextTakeover,
// clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits,
// threshold), for that connection (interop/compression_test.go).

const http = require('http');
const { WebSocketServer } = require('ws');

const SUBPROTOCOLS = ['chat', 'superchat'];

// One WebSocketServer (noServer) per distinct pmd value.
const servers = new Map();

function serverFor(pmd) {
  let wss = servers.get(pmd);
  if (wss) return wss;
  wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: pmd === '' ? false : JSON.parse(pmd),
    // Select the first subprotocol of the server's list that the client offered.
    handleProtocols: (offered) => {
      for (const p of SUBPROTOCOLS) {
        if (offered.has(p)) return p;
      }
      return false;
    },
  });
  wss.on('connection', onConnection);
  servers.set(pmd, wss);
  return wss;
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(426).end();
});

httpServer.on('upgrade', (req, socket, head) => {
  let wss;
  try {
    wss = serverFor(new URL(req.url, 'http://127.0.0.1').searchParams.get('pmd') || '');
  } catch (e) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

function report(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// Split buf into n parts, cut at byte offsets i*len/n (parts may be empty).
function split(buf, n) {
  const parts = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * buf.length) / n);
    const to = Math.floor(((i + 1) * buf.length) / n);
    parts.push(buf.subarray(from, to));
  }
  return parts;
}

function echo(ws, parts) {
  ws.on('message', (data, isBinary) => {
    if (parts <= 1) {
      ws.send(data, { binary: isBinary });
      return;
    }
    const pieces = split(data, parts);
    pieces.forEach((piece, i) => {
      ws.send(piece, { binary: isBinary, fin: i === pieces.length - 1 });
    });
  });
}

function onConnection(ws, req) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const q = url.searchParams;
  const id = q.get('id') || '';
  ws.on('close', (code, reason) => {
    report({ event: 'close', id, code, reason: reason.toString('utf8') });
  });
  ws.on('error', () => {});
  switch (url.pathname) {
    case '/echo':
      echo(ws, 1);
      break;
    case '/fragecho':
      echo(ws, Math.max(1, parseInt(q.get('parts') || '2', 10)));
      break;
    case '/ping': {
      const data = Buffer.from(q.get('data') || '', 'utf8');
      let answered = false;
      ws.on('pong', (payload) => {
        if (answered) return;
        answered = true;
        ws.send(Buffer.concat([Buffer.from('pong:'), payload]), { binary: false });
      });
      echo(ws, 1);
      ws.ping(data);
      break;
    }
    case '/close':
      ws.close(parseInt(q.get('code') || '1000', 10), q.get('reason') || '');
      break;
    case '/proto':
      ws.send('proto:' + ws.protocol);
      echo(ws, 1);
      break;
    default:
      ws.close(1008, 'unknown path');
  }
}

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(httpServer.address().port + '\n');
});

function shutdown() {
  for (const wss of servers.values()) {
    for (const ws of wss.clients) ws.terminate();
  }
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
