// REFERENCE ROW of bench/overhead, not part of Switchyard: about the least a Node JSON proxy
// does (node:http + undici Pool: read and parse the body, set the model, forward, parse and
// re-serialise the answer; a stream is piped). What Node itself allows on this path is the
// yardstick for the sidecar. Plain JavaScript, run by node alone (no TypeScript loader in its
// memory or CPU). Usage: reference-proxy.mjs <upstream origin>; prints its port.
import http from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.argv[2], { connections: 128, pipelining: 1 });
const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    body.model = 'gpt-4o';
    const up = await pool.request({
      path: req.url ?? '/',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: JSON.stringify(body),
    });
    if (body.stream) {
      res.writeHead(up.statusCode, { 'content-type': 'text/event-stream' });
      for await (const c of up.body) res.write(c);
      res.end();
      return;
    }
    const out = JSON.stringify(await up.body.json());
    res.writeHead(up.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  } catch (err) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(err));
  }
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
