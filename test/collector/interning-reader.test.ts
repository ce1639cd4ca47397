// The interning reader must decode exactly what protobufjs' own reader decodes: same strings for
// every length around the table's cut-off, multi-byte UTF-8, colliding slots and repeats.
import { describe, expect, it } from 'vitest';
import { decodeTraceRequestProto, encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { prng } from '../store/helpers.js';
import { protoRequest, protoSpan } from './helpers.js';

const ALPHABET = ['a', 'b', 'z', '0', '.', '_', 'é', 'ß', '✓', '🚀', '\u0000', ' '];

function randomString(rand: () => number): string {
  const len = Math.floor(rand() * 40); // around the 32-byte cut-off
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

describe('interning protobuf reader', () => {
  it('decodes random strings (repeated, colliding, multi-byte) as they were sent', () => {
    const rand = prng(7);
    // A small pool so values repeat across spans and requests, plus fresh ones that evict slots.
    const pool = Array.from({ length: 64 }, () => randomString(rand));
    for (let req = 0; req < 30; req++) {
      const sent = Array.from({ length: 50 }, () => {
        const attrs = Array.from({ length: 8 }, () => ({
          key: rand() < 0.7 ? pool[Math.floor(rand() * pool.length)] : randomString(rand),
          value: { stringValue: rand() < 0.5 ? pool[Math.floor(rand() * pool.length)] : randomString(rand) },
        }));
        return protoSpan({ name: randomString(rand), attributes: attrs });
      });
      const decoded = decodeTraceRequestProto(encodeTraceRequestProto(protoRequest(sent)));
      const spans = decoded.resourceSpans![0].scopeSpans![0].spans!;
      expect(spans.map((s) => s.name)).toEqual(sent.map((s) => s.name));
      expect(spans.map((s) => (s.attributes ?? []).map((kv) => [kv.key, kv.value?.stringValue]))).toEqual(
        sent.map((s) =>
          (s.attributes as { key: string; value: { stringValue: string } }[]).map((kv) => [
            kv.key,
            kv.value.stringValue,
          ]),
        ),
      );
    }
  });
});
