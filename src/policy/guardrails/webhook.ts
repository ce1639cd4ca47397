// Portkey's default.webhook: POST the check's context to a URL and take its verdict. The answer is
// {verdict: boolean, transformedData?: {request?: {json}, response?: {json}}}; transformed
// messages (input) or choices (a non-stream answer) replace the body's. A webhook that errs or
// does not answer within `timeout` (default 3 s) fails open (the check passes) unless
// `failOnError: true`, and hook_results say which.
import type { Check, CheckResult, Subject } from './types.js';
import { bool, fail, isObject, num, only, str, type Params, type Path } from './params.js';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 3000;

export function webhook(p: Params, path: Path): Check {
  only(p, ['webhookURL', 'headers', 'timeout', 'failOnError'], path, 'default.webhook');
  const url = str(p, 'webhookURL', path)!;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    /* below */
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    fail([...path, 'webhookURL'], 'must be an http(s) URL');
  const headers: Record<string, string> = {};
  if (p.headers !== undefined) {
    if (!isObject(p.headers) || Object.values(p.headers).some((v) => typeof v !== 'string'))
      fail([...path, 'headers'], 'must be an object of strings');
    Object.assign(headers, p.headers);
  }
  const timeout = num(p, 'timeout', path) ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const failClosed = bool(p, 'failOnError', path);
  const failed = (why: string): CheckResult => ({
    verdict: !failClosed,
    error: `${why} (${failClosed ? 'fail-closed: the check fails' : 'fail-open: the check passes'})`,
  });
  return {
    id: 'default.webhook',
    async run(s: Subject): Promise<CheckResult> {
      const payload = {
        eventType: s.phase === 'input' ? 'beforeRequestHook' : 'afterRequestHook',
        requestType: 'chatComplete',
        model: s.model,
        metadata: s.metadata,
        request: { json: s.phase === 'input' ? s.body : s.request, text: s.phase === 'input' ? s.text : undefined },
        response: s.phase === 'output' ? { json: s.body, text: s.text } : undefined,
      };
      let answer: unknown;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(timeout),
          redirect: 'error',
        });
        if (!res.ok) {
          await res.body?.cancel();
          return failed(`webhook answered HTTP ${res.status}`);
        }
        answer = await res.json();
      } catch (e) {
        const name = (e as Error).name;
        return failed(
          name === 'TimeoutError' || name === 'AbortError'
            ? `webhook did not answer within ${timeout} ms`
            : `webhook call failed (${name})`,
        );
      }
      if (!isObject(answer) || typeof answer.verdict !== 'boolean')
        return failed('webhook answer has no boolean "verdict"');
      applyTransform(s, answer.transformedData);
      return { verdict: answer.verdict };
    },
  };
}

/** Transformed messages (input) or choices (output) replace the body's, in place. */
function applyTransform(s: Subject, t: unknown): void {
  if (!isObject(t) || !s.body) return;
  const side = s.phase === 'input' ? t.request : t.response;
  const json = isObject(side) ? side.json : undefined;
  if (!isObject(json)) return;
  const key = s.phase === 'input' ? 'messages' : 'choices';
  const target = s.body[key];
  if (Array.isArray(json[key]) && Array.isArray(target)) target.splice(0, target.length, ...(json[key] as unknown[]));
}
