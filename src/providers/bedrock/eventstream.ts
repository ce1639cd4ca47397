// application/vnd.amazon.eventstream → events for the translator. Each binary message carries
// headers (:message-type event|exception|error, :event-type, :exception-type) and a JSON payload.
import { createRequire } from 'node:module';
import type { EventStreamCodec } from '@smithy/eventstream-codec';
import type { Message } from '@smithy/types';
import type { SseEvent, StreamDecoder } from '../types.js';

const utf8 = new TextDecoder();
const enc = new TextEncoder();
export const toUtf8 = (b: Uint8Array): string => utf8.decode(b);
export const fromUtf8 = (s: string): Uint8Array => enc.encode(s);

function header(m: Message, name: string): string | undefined {
  const h = m.headers[name];
  return h && h.type === 'string' ? h.value : undefined;
}

/** `event` is the event type, `exception:<type>` for modeled exceptions, `error:<code>` for errors. */
export function toEvent(m: Message): SseEvent {
  const type = header(m, ':message-type') ?? 'event';
  const body = toUtf8(m.body);
  if (type === 'exception')
    return { event: `exception:${header(m, ':exception-type') ?? 'unknown'}`, data: body || '{}' };
  if (type === 'error') {
    return {
      event: `error:${header(m, ':error-code') ?? 'unknown'}`,
      data: JSON.stringify({ message: header(m, ':error-message') ?? body }),
    };
  }
  return { event: header(m, ':event-type') ?? 'unknown', data: body || '{}' };
}

let Codec: typeof EventStreamCodec | undefined;
/** The codec is loaded with the first Bedrock stream, not in every sidecar's memory (~10 MB);
 *  synchronously, as a decoder is made synchronously. */
function newCodec(): EventStreamCodec {
  Codec ??= (createRequire(import.meta.url)('@smithy/eventstream-codec') as typeof import('@smithy/eventstream-codec'))
    .EventStreamCodec;
  return new Codec(toUtf8, fromUtf8);
}

/** Message framing: each message starts with its total length (big-endian uint32); the codec decodes whole messages. */
export class AwsEventStreamDecoder implements StreamDecoder {
  private readonly codec = newCodec();
  private buf: Uint8Array = new Uint8Array(0);

  push(bytes: Uint8Array): SseEvent[] {
    const out: SseEvent[] = [];
    this.buf = this.buf.length ? concat(this.buf, bytes) : bytes;
    try {
      while (this.buf.length >= 4) {
        const len = new DataView(this.buf.buffer, this.buf.byteOffset, 4).getUint32(0, false);
        if (len < 16) throw new Error(`message length ${len} is below the minimum`);
        if (this.buf.length < len) break;
        out.push(toEvent(this.codec.decode(this.buf.subarray(0, len))));
        this.buf = this.buf.subarray(len);
      }
    } catch (e) {
      // Bad prelude/message CRCs or lengths: a corrupt stream, reported as malformed.
      throw new SyntaxError(`corrupt AWS event stream: ${(e as Error).message}`);
    }
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Encodes one event-stream message (the fake Bedrock uses this, as the service would). */
export function encodeEvent(kind: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  const codec = newCodec();
  const headers: Message['headers'] = {
    ':message-type': { type: 'string', value: kind },
    [kind === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
    ':content-type': { type: 'string', value: 'application/json' },
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
}
