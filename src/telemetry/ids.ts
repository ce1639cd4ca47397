// Trace and span ids as the SDK's RandomIdGenerator makes them (Math.random, never all zero),
// here so the request thread does not load the trace SDK: spans are built in the export worker.
const buf = Buffer.allocUnsafe(16);

function randomHex(bytes: number): string {
  for (let i = 0; i < bytes; i += 4) buf.writeUInt32BE((Math.random() * 2 ** 32) >>> 0, i);
  for (let i = 0; i < bytes; i++) if (buf[i] !== 0) return buf.toString('hex', 0, bytes);
  buf[bytes - 1] = 1; // all zero is the invalid id
  return buf.toString('hex', 0, bytes);
}

export const ids = {
  generateTraceId: (): string => randomHex(16),
  generateSpanId: (): string => randomHex(8),
};
