// Opt-in prompt/completion capture (telemetry.capture_content) as gen_ai.input.messages and
// gen_ai.output.messages, through a redaction hook that runs first.
import type { Span } from '@opentelemetry/api';

export type Redactor = (kind: 'input' | 'output', value: unknown) => unknown;

const MAX_CHARS = 16 * 1024;

function serialise(v: unknown): string {
  const s = JSON.stringify(v) ?? '';
  return s.length > MAX_CHARS ? s.slice(0, MAX_CHARS) + '…' : s;
}

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

/** The config's redaction hook: every match of any pattern, in any string, becomes [REDACTED]. */
export function patternRedactor(patterns: string[]): Redactor {
  const res = patterns.map((p) => new RegExp(p, 'g'));
  return (_kind, value) => mapStrings(value, (s) => res.reduce((acc, re) => acc.replace(re, '[REDACTED]'), s));
}

export class ContentCapture {
  constructor(private readonly redact: Redactor = (_k, v) => v) {}

  input(span: Span, body: Record<string, unknown>): void {
    const v = this.redact('input', body.messages ?? body.prompt ?? body.input);
    if (v !== undefined) span.setAttribute('gen_ai.input.messages', serialise(v));
  }

  output(span: Span, response: unknown): void {
    const r = response as { choices?: Array<{ message?: unknown; text?: unknown }> } | undefined;
    const out = r?.choices?.map((c) => c.message ?? c.text);
    if (out === undefined) return;
    const v = this.redact('output', out);
    if (v !== undefined) span.setAttribute('gen_ai.output.messages', serialise(v));
  }
}
