import { describe, expect, it } from 'vitest';
import { anyValueAsString, int64, uint64 } from '../../src/collector/any-value.js';
import { decodeTraceRequestProto, encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import type { AnyValue } from '../../src/collector/otlp-model.js';

// Round-trips values through the real protobuf codec so the shapes are what the receiver sees.
function viaProto(value: Record<string, unknown>): AnyValue {
  const req = decodeTraceRequestProto(
    encodeTraceRequestProto({ resourceSpans: [{ resource: { attributes: [{ key: 'k', value }] } }] }),
  );
  return req.resourceSpans![0].resource!.attributes![0].value!;
}

describe('anyValueAsString (pcommon Value.AsString)', () => {
  it('renders scalars the way the Go collector does', () => {
    expect(anyValueAsString(viaProto({ stringValue: 'héllo <b>' }))).toBe('héllo <b>');
    expect(anyValueAsString(viaProto({ boolValue: true }))).toBe('true');
    expect(anyValueAsString(viaProto({ boolValue: false }))).toBe('false');
    expect(anyValueAsString(viaProto({ intValue: '-9223372036854775808' }))).toBe('-9223372036854775808');
    expect(anyValueAsString(viaProto({ intValue: '9007199254740993' }))).toBe('9007199254740993');
    expect(anyValueAsString(viaProto({ doubleValue: 1.5 }))).toBe('1.5');
    expect(anyValueAsString(viaProto({ doubleValue: 3 }))).toBe('3');
    expect(anyValueAsString(viaProto({ doubleValue: 1e21 }))).toBe('1e+21');
    expect(anyValueAsString(viaProto({ doubleValue: 1.5e-7 }))).toBe('1.5e-7');
    expect(anyValueAsString(viaProto({ doubleValue: 0.000001 }))).toBe('0.000001');
    expect(anyValueAsString(viaProto({ doubleValue: Number.NaN }))).toBe('json: unsupported value: NaN');
    expect(anyValueAsString(viaProto({ doubleValue: Number.POSITIVE_INFINITY }))).toBe('json: unsupported value: +Inf');
    expect(anyValueAsString(viaProto({ bytesValue: Buffer.from([0, 1, 2, 250]) }))).toBe('AAEC+g==');
    expect(anyValueAsString(viaProto({}))).toBe('');
  });

  it('renders arrays and maps as Go encoding/json: sorted keys, HTML-safe escapes', () => {
    const arr = viaProto({
      arrayValue: { values: [{ stringValue: 'a&b' }, { intValue: 7 }, { doubleValue: 2.5 }, { boolValue: true }, {}] },
    });
    expect(anyValueAsString(arr)).toBe('["a\\u0026b",7,2.5,true,null]');
    const map = viaProto({
      kvlistValue: {
        values: [
          { key: 'z', value: { stringValue: '<x>' } },
          { key: 'a', value: { arrayValue: { values: [{ bytesValue: Buffer.from('hi') }] } } },
          { key: 'm', value: { kvlistValue: { values: [{ key: 'n', value: { intValue: 1 } }] } } },
        ],
      },
    });
    expect(anyValueAsString(map)).toBe('{"a":["aGk="],"m":{"n":1},"z":"\\u003cx\\u003e"}');
  });

  it('yields "" for a container holding NaN, as json.Marshal fails on it', () => {
    expect(anyValueAsString(viaProto({ arrayValue: { values: [{ doubleValue: Number.NaN }] } }))).toBe('');
  });

  it('converts 64-bit halves exactly', () => {
    expect(uint64({ low: -1, high: -1 })).toBe(18446744073709551615n);
    expect(int64({ low: -1, high: -1 })).toBe(-1n);
    expect(uint64(1700000000123456789n)).toBe(1700000000123456789n);
    expect(uint64(null)).toBe(0n);
  });
});
