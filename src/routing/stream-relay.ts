// Relaying a committed stream to the client's sink, and what its attempt reports at the end.
import type { ProviderError } from '../providers/types.js';
import { type AttemptFailure, StreamFailure, type StreamSuccess } from './attempt.js';
import type { StreamSink } from './exec-types.js';
import type { AttemptEnd } from './observer.js';
import type { Outcome } from './outcome.js';

export type RelayEnd = { kind: 'done' } | { kind: 'failed'; failure: AttemptFailure } | { kind: 'client_gone' };

/** Writes the stream's chunks to the sink until it ends, breaks, or the client goes. */
export async function relay(r: StreamSuccess, sink: StreamSink): Promise<RelayEnd> {
  try {
    for (const c of r.first) await sink.write(c);
    for await (const chunks of r.rest) {
      if (sink.closed) break;
      for (const c of chunks) await sink.write(c);
    }
  } catch (e) {
    const failure =
      e instanceof StreamFailure
        ? e.failure
        : ({
            ok: false,
            outcome: 'stream_cut',
            status: 502,
            error: { message: (e as Error).message, type: 'stream_cut' },
          } as AttemptFailure);
    return { kind: 'failed', failure };
  }
  return sink.closed ? { kind: 'client_gone' } : { kind: 'done' };
}

/** The attempt's end as the observer hears it, from what the stream's translator saw. */
export function streamAttemptEnd(r: StreamSuccess, outcome: Outcome, status: number, err?: ProviderError): AttemptEnd {
  return {
    outcome,
    status,
    usage: r.translator.usage,
    responseModel: r.translator.responseModel,
    responseId: r.translator.responseId,
    finishReasons: r.translator.finishReasons,
    ttftMs: r.ttftMs,
    errorType: err ? (outcome === 'http_error' ? String(status) : outcome) : undefined,
    errorMessage: err?.message,
  };
}
