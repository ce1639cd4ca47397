// The shared undici dispatcher: keep-alive pools per upstream origin.
import { Agent, type Dispatcher } from 'undici';

let agent: Agent | undefined;

export function upstreamDispatcher(): Dispatcher {
  agent ??= new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: 256,
    // Our own timers bound every attempt (body included); undici's are a backstop only.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: 10_000 },
  });
  return agent;
}

export async function closeUpstreamDispatcher(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.close();
}
