// POST /v1/feedback on the sidecar: validated here, forwarded to the collector, which stores it.
import type { Request, Response } from 'express';
import { request } from 'undici';
import { z } from 'zod';
import { formatPath } from '../config/errors.js';
import { HttpError, sendError } from './errors.js';
import { upstreamDispatcher } from '../routing/upstream.js';

export const FeedbackBody = z
  .object({
    trace_id: z.string().min(1).max(256),
    value: z.number().min(-10).max(10),
    weight: z.number().min(0).max(1).default(1),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export function collectorFeedbackUrl(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit.replace(/\/$/, '') + (explicit.endsWith('/v1/feedback') ? '' : '/v1/feedback');
  const otlp = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
  return new URL('/v1/feedback', otlp).toString();
}

export function feedbackHandler(url: () => string) {
  return async (req: Request, res: Response): Promise<void> => {
    const parsed = FeedbackBody.safeParse(req.body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return sendError(res, new HttpError(400, `${formatPath(i.path)}: ${i.message}`, 'invalid_feedback'));
    }
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      // The collector takes its ingest token on feedback when no feedback token of its own is set.
      const token = process.env.SWITCHYARD_FEEDBACK_TOKEN || process.env.SWITCHYARD_COLLECTOR_TOKEN;
      if (token) headers.authorization = `Bearer ${token}`;
      const up = await request(url(), {
        method: 'POST',
        headers,
        body: JSON.stringify(parsed.data),
        dispatcher: upstreamDispatcher(),
        signal: AbortSignal.timeout(5_000),
      });
      const text = await up.body.text();
      res
        .status(up.statusCode)
        .type('application/json')
        .send(text || '{}');
    } catch (e) {
      // Not stored: tell the caller so it can retry, rather than pretend.
      sendError(
        res,
        new HttpError(
          503,
          `feedback not stored: collector unreachable (${(e as Error).message})`,
          'collector_unavailable',
        ),
      );
    }
  };
}
