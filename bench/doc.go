// Package bench compares the wslua WebSocket stack with gorilla/websocket,
// coder/websocket, lxzan/gws, gobwas/ws and a plain length-prefixed TCP
// protocol (the physical baseline).
//
// The benchmarks live in this package's test files; run.sh runs them and
// writes RESULTS.md. Echo servers for every implementation are in
// internal/echo, the matching clients in internal/clients.
package bench
