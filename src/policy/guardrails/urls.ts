// default.validUrls: every URL in the text must be well formed, and with `onlyDNS: true` its
// host must resolve. Portkey's check without onlyDNS fetches each URL; a sidecar that fetches
// whatever a model writes is a request forgery waiting to happen, so that mode is a load error
// here, and `syntaxOnly: true` (ours) checks the form alone.
import { lookup } from 'node:dns/promises';
import type { Check } from './types.js';
import { bool, fail, num, only, type Params, type Path } from './params.js';

const URLS = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Trailing punctuation of the sentence around a URL is not part of it.
const TRAILING = /[.,;:!?)\]}]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function urlsIn(text: string): string[] {
  return [...text.matchAll(URLS)].map((m) => m[0].replace(TRAILING, ''));
}

/** A URL a browser would fetch: http(s), a host of valid labels (or an IP literal). */
export function wellFormed(raw: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const host = u.hostname;
  if (host.startsWith('[')) return u; // IPv6 literal, parsed by URL
  if (/^\d+(\.\d+){3}$/.test(host)) return u;
  const labels = host.split('.');
  return labels.length >= 1 && labels.every((l) => LABEL.test(l)) ? u : undefined;
}

async function resolves(host: string, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
  try {
    return await Promise.race([
      lookup(host.replace(/^\[|\]$/g, '')).then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function validUrls(p: Params, path: Path): Check {
  only(p, ['onlyDNS', 'syntaxOnly', 'timeout', 'not'], path, 'default.validUrls');
  const onlyDNS = bool(p, 'onlyDNS', path);
  const syntaxOnly = bool(p, 'syntaxOnly', path);
  if (!onlyDNS && !syntaxOnly) {
    fail(
      [...path, 'onlyDNS'],
      'default.validUrls without onlyDNS: true would fetch every URL the text names, which this sidecar never does; set onlyDNS: true (the host must resolve) or syntaxOnly: true (the form alone)',
    );
  }
  const timeoutMs = num(p, 'timeout', path) ?? 3000;
  const not = bool(p, 'not', path);
  return {
    id: 'default.validUrls',
    async run(s) {
      const urls = urlsIn(s.text).map(wellFormed);
      let ok = urls.every((u) => u !== undefined);
      if (ok && onlyDNS) {
        const hosts = [...new Set(urls.map((u) => u!.hostname))];
        ok = (await Promise.all(hosts.map((h) => resolves(h, timeoutMs)))).every(Boolean);
      }
      return { verdict: not ? !ok : ok };
    },
  };
}
