// Request dispatch. The three completion routes — the hot path, measured in bench/overhead —
// run on node:http directly; everything else (health, metrics, models, feedback, 404) is the
// express app. Express 5's per-request machinery measured at about half of a lean proxy's
// throughput on this path, for nothing these routes use.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import type { Operation } from '../providers/types.js';
import { completionHandler } from './handlers.js';
import { countTokensHandler, messagesHandler } from './messages-handler.js';
import type { Sidecar } from './sidecar.js';

const hot: Record<string, Operation> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'text_completion',
  '/v1/embeddings': 'embeddings',
};

export function routeRequests(sc: Sidecar, app: express.Express): (req: IncomingMessage, res: ServerResponse) => void {
  const handlers = new Map(Object.entries(hot).map(([path, op]) => [path, completionHandler(sc, op, path)]));
  handlers.set('/v1/messages', messagesHandler(sc)).set('/v1/messages/count_tokens', countTokensHandler(sc));
  return (req, res) => {
    if (req.method === 'POST') {
      const q = req.url!.indexOf('?');
      const h = handlers.get(q < 0 ? req.url! : req.url!.slice(0, q));
      if (h) return void h(req, res);
    }
    app(req, res);
  };
}
