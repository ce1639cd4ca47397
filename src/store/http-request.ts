// Reads a ClickHouse HTTP interface request: the query from the URL (?query=), the body, or both
// (URL prefix + body, joined by a newline as the server does), multipart/form-data fields,
// compressed bodies, `param_<name>` query parameters and the few settings we honour.
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ClickHouseError } from './sql-guard.js';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ParsedRequest {
  query: string;
  database?: string;
  defaultFormat?: string;
  queryId?: string;
  /** Raw `param_<name>` values, as sent (escaped text; see query-params.ts). */
  params: Record<string, string>;
  /** Client asked for readonly (readonly=1|2 parameter). */
  readonlyRequested: boolean;
  compressResponse: boolean;
  /** Every URL and form field, for the settings check (query-limits.ts). */
  fields: ReadonlyMap<string, string>;
}

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new ClickHouseError(229, 'QUERY_IS_TOO_LARGE', `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (!encoding || encoding === 'identity') return raw;
  const decode = decoders[encoding];
  if (!decode) throw new ClickHouseError(1, 'UNSUPPORTED_METHOD', `Unknown Content-Encoding: ${encoding}`);
  try {
    return await decode(raw);
  } catch {
    throw new ClickHouseError(271, 'CANNOT_DECOMPRESS', `Cannot decompress ${encoding} request body`);
  }
}

/** ClickHouse parameter values use TSV escaping; the engine binding re-escapes plain strings. */
export function tsvUnescape(s: string): string {
  const map: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    b: '\b',
    f: '\f',
    '0': '\0',
    '\\': '\\',
    "'": "'",
    '"': '"',
    N: '',
  };
  return s.replace(/\\(.)/g, (_, c: string) => map[c] ?? c);
}

function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new ClickHouseError(1, 'UNSUPPORTED_METHOD', 'multipart/form-data without a boundary');
  const boundary = `--${m[1] ?? m[2]}`;
  const fields = new Map<string, string>();
  for (const part of body.toString('utf8').split(boundary)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, sep))?.[1];
    if (name === undefined) continue;
    fields.set(name, part.slice(sep + 4).replace(/\r\n$/, ''));
  }
  return fields;
}

export function parseRequest(url: URL, body: Buffer, contentType: string | undefined): ParsedRequest {
  const fields = new Map<string, string>();
  for (const [k, v] of url.searchParams) fields.set(k, v);
  let bodyText = body.toString('utf8');
  if (contentType && /^multipart\/form-data/i.test(contentType)) {
    for (const [k, v] of parseMultipart(body, contentType)) fields.set(k, v);
    bodyText = '';
  }
  const urlQuery = fields.get('query') ?? '';
  const query = urlQuery && bodyText ? `${urlQuery}\n${bodyText}` : urlQuery || bodyText;
  const params: Record<string, string> = {};
  for (const [k, v] of fields) if (k.startsWith('param_')) params[k.slice(6)] = v;
  const readonly = fields.get('readonly');
  return {
    query,
    database: fields.get('database') || undefined,
    defaultFormat: fields.get('default_format') || undefined,
    queryId: fields.get('query_id') || undefined,
    params,
    readonlyRequested: readonly !== undefined && readonly !== '0',
    compressResponse: fields.get('enable_http_compression') === '1',
    fields,
  };
}
