// The benchmark's upstream: the faithful fake OpenAI server in its own process, so "direct"
// and "through the sidecar" both cross a real loopback hop. Prints its port on stdout.
import { startFakeOpenAI } from '../test/fakes/openai.js';

const fake = await startFakeOpenAI({ record: false });
process.stdout.write(`${fake.port}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
