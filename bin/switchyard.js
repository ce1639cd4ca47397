#!/usr/bin/env node
// Runs the compiled CLI (built by `npm install` through the prepare script).
// The embedded engine runs queries and inserts on libuv's pool, which also serves fs and dns:
// with interface reads (2) and inserts (2) in flight the default 4 threads would leave none for
// the collector's spool. Set before the pool starts (it starts on first use), so a dynamic import.
process.env.UV_THREADPOOL_SIZE ||= '8';
await import('../dist/cli.js');
