// `switchyard dev` (= `npm start`): sidecar + collector + embedded ClickHouse in one process.
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { configPath, loadOrExit, onShutdown } from './common.js';
import { startDevStack } from './dev-stack.js';

export async function run(argv: string[]): Promise<void> {
  const path = configPath(parseArgs(COMMANDS.dev, argv).flags);
  const config = await loadOrExit(path);
  const stack = await startDevStack({ argv, config, configPath: path });
  onShutdown(() => stack.close());
}
