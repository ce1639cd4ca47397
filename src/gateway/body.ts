// Reads a request body as JSON under a size limit. The completion routes use this instead of
// express.json: body-parser's machinery measured as a large share of the sidecar's overhead.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/**
 * Bodies nested deeper are refused. JSON.parse takes any depth, but what comes after (serialising
 * the request for a provider, translating it between wire formats) recurses: a body a few thousand
 * levels deep overflowed the stack there and was answered 500. Real requests, tool schemas
 * included, stay far below this.
 */
export const MAX_BODY_DEPTH = 128;

/** True when `v` has containers nested more than `left` levels deep (recursing no deeper than that). */
function deeperThan(v: unknown, left: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (left === 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (deeperThan(v[i], left - 1)) return true;
    return false;
  }
  for (const k in v) if (deeperThan((v as Record<string, unknown>)[k], left - 1)) return true;
  return false;
}

export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const enc = req.headers['content-encoding'];
    if (enc && enc !== 'identity') {
      req.resume();
      return reject(
        new HttpError(
          415,
          `content-encoding "${enc}" is not supported; send the body uncompressed`,
          'unsupported_encoding',
        ),
      );
    }
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume(); // drain so the connection stays usable
      return reject(new HttpError(413, `request body is larger than the limit of ${limit} bytes`, 'body_too_large'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `request body is larger than the limit of ${limit} bytes`, 'body_too_large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        return reject(new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`, 'invalid_json'));
      }
      if (deeperThan(body, MAX_BODY_DEPTH))
        return reject(
          new HttpError(400, `request body is nested more than ${MAX_BODY_DEPTH} levels deep`, 'invalid_body'),
        );
      resolve(body);
    });
    req.on('error', (e) => {
      if (!failed) reject(new HttpError(400, `request body could not be read: ${e.message}`, 'invalid_body'));
    });
  });
}
