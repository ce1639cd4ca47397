// V8 grows the young generation when most of what it allocates survives a scavenge, and loading
// the modules at start looks exactly like that: a sidecar came out of its start with both
// semi-spaces at their 16 MB maximum touched, and V8 keeps them while the process idles. So the
// CLI holds the young generation at its initial size while a command starts and lets it grow
// again once the command is up, where the load decides. Measured on `switchyard sidecar` against
// the commit before, alternated (c=50): idle RSS 85-95 -> 76-87 MB and peak 131-132 -> 120-121 MB
// with telemetry off, 108-119 -> 100-110 and 165-173 -> 160-164 MB on; CPU per request the same
// within the noise of 4 + 7 rounds. V8 reads the flag at every scavenge, so it can be set after
// V8 started, unlike --max-semi-space-size (and at start V8 raises a factor below 2 to 2). A
// growth factor the user gave node is left alone.
import { setFlagsFromString } from 'node:v8';

/** V8's default --semi-space-growth-factor. */
const V8_DEFAULT_GROWTH = 2;

const userSet = () => process.execArgv.some((a) => /^--semi[-_]space[-_]growth[-_]factor/.test(a));

export function holdYoungGeneration(): void {
  if (!userSet()) setFlagsFromString('--semi-space-growth-factor=1');
}

export function releaseYoungGeneration(): void {
  if (!userSet()) setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
}
