// OTLP/JSON (the protobuf JSON mapping with OTLP's rules: lowerCamelCase keys, trace and span
// ids as hex, enums as integers, 64-bit integers as strings or numbers), validated with zod
// and converted into the same shape protobufjs decodes to.
import { z } from 'zod';
import type { AnyValue, AnyValueKind, ExportTraceRequest, KeyValue } from './otlp-model.js';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const UINT = /^\d+$/;
const INT = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const hexId = z
  .string()
  .regex(HEX, 'must be a hex string (OTLP/JSON encodes ids as hex, not base64)')
  .transform((h) => Buffer.from(h, 'hex'));

// JSON numbers past 2^53 are accepted (already rounded by JSON.parse, as in other collectors);
// zod's .int() would refuse them as unsafe integers.
const integral = z.number().refine(Number.isInteger, 'must be an integer');

const uint64 = z
  .union([
    z.string().regex(UINT, 'must be an unsigned 64-bit integer'),
    integral.refine((n) => n >= 0, 'must not be negative'),
  ])
  .transform((v) => BigInt(v))
  .refine((v) => v < 1n << 64n, 'must fit in 64 bits');

const int64 = z
  .union([z.string().regex(INT, 'must be a 64-bit integer'), integral])
  .transform((v) => BigInt(v))
  .refine((v) => v >= -(1n << 63n) && v < 1n << 63n, 'must fit in 64 bits');

const double = z.union([
  z.number(),
  z.enum(['NaN', 'Infinity', '-Infinity']).transform((s) => Number(s)),
  z
    .string()
    .regex(/^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/)
    .transform(Number),
]);

const bytes = z
  .string()
  .regex(BASE64, 'must be base64')
  .transform((s) => Buffer.from(s, 'base64'));

/** An enum field: its integer, or (leniently) its proto name. */
function enumField(names: readonly string[]) {
  return z.union([z.number().int(), z.enum(names as [string, ...string[]]).transform((n) => names.indexOf(n))]);
}

const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;
const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;
const ONEOF: AnyValueKind[] = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
];

const anyValue: z.ZodType<AnyValue> = z.lazy(() =>
  z
    .object({
      stringValue: z.string().nullish(),
      boolValue: z.boolean().nullish(),
      intValue: int64.nullish(),
      doubleValue: double.nullish(),
      arrayValue: z.object({ values: z.array(anyValue).nullish() }).nullish(),
      kvlistValue: z.object({ values: z.array(keyValue).nullish() }).nullish(),
      bytesValue: bytes.nullish(),
    })
    .transform((v): AnyValue => {
      const kind = ONEOF.find((k) => v[k] != null);
      return { ...(v as AnyValue), value: kind ?? '' };
    }),
) as unknown as z.ZodType<AnyValue>;

const keyValue: z.ZodType<KeyValue> = z.lazy(() =>
  z.object({ key: z.string(), value: anyValue.nullish() }),
) as unknown as z.ZodType<KeyValue>;

const attributes = z.array(keyValue).nullish();

const span = z.object({
  traceId: hexId.nullish(),
  spanId: hexId.nullish(),
  traceState: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  parentSpanId: hexId.nullish(),
  flags: z.number().int().nullish(),
  name: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  kind: enumField(SPAN_KIND_NAMES)
    .nullish()
    .transform((k) => k ?? 0),
  startTimeUnixNano: uint64.nullish(),
  endTimeUnixNano: uint64.nullish(),
  attributes,
  events: z
    .array(
      z.object({
        timeUnixNano: uint64.nullish(),
        name: z
          .string()
          .nullish()
          .transform((s) => s ?? ''),
        attributes,
      }),
    )
    .nullish(),
  links: z
    .array(
      z.object({
        traceId: hexId.nullish(),
        spanId: hexId.nullish(),
        traceState: z
          .string()
          .nullish()
          .transform((s) => s ?? ''),
        attributes,
      }),
    )
    .nullish(),
  status: z
    .object({
      message: z
        .string()
        .nullish()
        .transform((s) => s ?? ''),
      code: enumField(STATUS_CODE_NAMES)
        .nullish()
        .transform((c) => c ?? 0),
    })
    .nullish(),
});

export const exportTraceRequestJson = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes }).nullish(),
        scopeSpans: z
          .array(
            z.object({
              scope: z
                .object({
                  name: z
                    .string()
                    .nullish()
                    .transform((s) => s ?? ''),
                  version: z
                    .string()
                    .nullish()
                    .transform((s) => s ?? ''),
                })
                .nullish(),
              spans: z.array(span).nullish(),
            }),
          )
          .nullish(),
      }),
    )
    .nullish(),
});

export class OtlpJsonError extends Error {}

function describe(issue: z.core.$ZodIssue): string {
  let where = '';
  for (const p of issue.path) where += typeof p === 'number' ? `[${p}]` : where ? `.${String(p)}` : String(p);
  return `${where || 'body'}: ${issue.message}`;
}

/** Parses and validates an OTLP/JSON ExportTraceServiceRequest; throws OtlpJsonError. */
export function decodeTraceRequestJson(text: string): ExportTraceRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new OtlpJsonError(`body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = exportTraceRequestJson.safeParse(raw);
  if (!parsed.success) throw new OtlpJsonError(describe(parsed.error.issues[0]));
  return parsed.data as ExportTraceRequest;
}

/** ExportTraceServiceResponse in OTLP/JSON (int64 as a string, per the JSON mapping). */
export function encodeTraceResponseJson(rejectedSpans: number, errorMessage: string): string {
  if (rejectedSpans <= 0) return '{}';
  return JSON.stringify({ partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } });
}

/** google.rpc.Status in JSON. */
export function encodeStatusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}
