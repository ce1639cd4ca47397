// The benchmark's upstream: the faithful fake OpenAI server in its own process, so "direct"
// and "through the sidecar" both cross a real loopback hop. Prints its port on stdout.
// `anthropic` as the first argument: the fake Anthropic Messages API instead.
import { startFakeAnthropic } from '../test/fakes/anthropic.js';
import { startFakeOpenAI } from '../test/fakes/openai.js';

const fake =
  process.argv[2] === 'anthropic'
    ? await startFakeAnthropic({ record: false })
    : await startFakeOpenAI({ record: false });
process.stdout.write(`${fake.port}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
