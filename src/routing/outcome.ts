// Attempt outcomes and the classification of transport failures.
export type Outcome =
  | 'ok'
  | 'http_error'
  | 'timeout'
  | 'connect_error'
  | 'stream_cut'
  | 'invalid_response'
  | 'cancelled'
  | 'guardrail';

const reasons = {
  client: 'client disconnected',
  deadline: 'request deadline exceeded',
  timeout: 'attempt timed out',
  hedge: 'another attempt of the hedged request answered first',
} as const;

/** Why our own abort fired: the attempt's timer, the overall deadline, the client leaving, or a hedge winning. */
export class AbortReason extends Error {
  constructor(readonly kind: keyof typeof reasons) {
    super(reasons[kind]);
  }
}

const connectCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Maps an error thrown by undici (or our abort) to an outcome and HTTP status. */
export function classifyTransportError(
  err: unknown,
  signal: { readonly aborted: boolean; readonly reason: unknown },
): { outcome: Outcome; status: number; message: string } {
  if (signal.aborted && signal.reason instanceof AbortReason) {
    const r = signal.reason;
    if (r.kind === 'client' || r.kind === 'hedge') return { outcome: 'cancelled', status: 499, message: r.message };
    return { outcome: 'timeout', status: 408, message: r.message };
  }
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  const message = e?.cause?.message ?? e?.message ?? String(err);
  if (connectCodes.has(code) || /CERT|TLS|SSL/i.test(code) || /certificate|self.signed/i.test(message)) {
    return {
      outcome: 'connect_error',
      status: 502,
      message: `upstream connection failed (${code || 'error'}): ${message}`,
    };
  }
  return { outcome: 'connect_error', status: 502, message: `upstream request failed: ${message}` };
}
