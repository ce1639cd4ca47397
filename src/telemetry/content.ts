// Opt-in prompt/completion capture (telemetry.capture_content) as gen_ai.input.messages and
// gen_ai.output.messages, through a redaction hook that runs first (on the request path, so a
// code hook never has to cross into the export worker).
export type Redactor = (kind: 'input' | 'output', value: unknown) => unknown;

const MAX_CHARS = 16 * 1024;

function serialise(v: unknown): string {
  const s = JSON.stringify(v) ?? '';
  return s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS)}…` : s;
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

  /** gen_ai.input.messages: the request's messages (or prompt / input), redacted. */
  inputText(body: Record<string, unknown>): string | undefined {
    const v = this.redact('input', body.messages ?? body.prompt ?? body.input);
    return v === undefined ? undefined : serialise(v);
  }

  /** gen_ai.output.messages: the choices' messages (or texts), redacted. */
  outputText(response: unknown): string | undefined {
    const r = response as
      | { choices?: Array<{ message?: unknown; text?: unknown }>; type?: unknown; role?: unknown; content?: unknown }
      | undefined;
    // An Anthropic message (POST /v1/messages) is one output message.
    const out =
      r?.type === 'message' ? [{ role: r.role, content: r.content }] : r?.choices?.map((c) => c.message ?? c.text);
    if (out === undefined) return undefined;
    const v = this.redact('output', out);
    return v === undefined ? undefined : serialise(v);
  }
}
