import { describe, expect, it } from 'vitest';
import { RecordDecoder, RecordEncoder, type EncodedBatch } from '../../src/telemetry/record-codec.js';
import type { RequestRecord } from '../../src/telemetry/records.js';
import { full, info, minimal, okAttempt } from './record-fixtures.js';

/** Through the encoder, a structured clone (as postMessage does) and the decoder. */
function roundTrip(enc: RecordEncoder, dec: RecordDecoder, records: RequestRecord[]): RequestRecord[] {
  for (const r of records) enc.add(r);
  return dec.decode(structuredClone(enc.take()) as EncodedBatch);
}

describe('record codec (request thread → export worker)', () => {
  it('carries every field of a full record, and a minimal one, unchanged', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder();
    expect(roundTrip(enc, dec, [full, minimal, okAttempt])).toStrictEqual([full, minimal, okAttempt]);
    // Strings interned by the first batch are not sent again, and still decode.
    enc.add(full);
    const second = enc.take();
    expect(second.strings).toEqual([]);
    expect(dec.decode(structuredClone(second))).toStrictEqual([full]);
  });

  it('an attempt without a result keeps its usage-less, result-less shape', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder();
    const [r] = roundTrip(enc, dec, [{ ...minimal, attempts: [{ spanId: 'd'.repeat(16), info, start: 5 }] }]);
    expect(r.attempts[0]).toStrictEqual({ spanId: 'd'.repeat(16), info, start: 5 });
    const [r2] = roundTrip(enc, dec, [
      { ...minimal, attempts: [{ spanId: 'd'.repeat(16), info, start: 5, result: { outcome: 'timeout', usage: {} } }] },
    ]);
    expect(r2.attempts[0].result).toStrictEqual({ outcome: 'timeout', usage: {} });
  });

  it('starts its string table over once it is full, and the decoder follows', () => {
    const enc = new RecordEncoder();
    const dec = new RecordDecoder();
    const many = (i: number): RequestRecord => ({
      ...okAttempt,
      attempts: [{ ...okAttempt.attempts[0], result: { outcome: 'ok', responseModel: `model-${i}` } }],
    });
    let sawReset = false;
    for (let b = 0; b < 40; b++) {
      const batch = Array.from({ length: 256 }, (_, i) => many(b * 256 + i));
      for (const r of batch) enc.add(r);
      const e = enc.take();
      sawReset ||= e.reset;
      expect(dec.decode(structuredClone(e))).toStrictEqual(batch);
    }
    expect(sawReset).toBe(true);
  });
});
