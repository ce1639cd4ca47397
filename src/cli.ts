#!/usr/bin/env node
// Entry point: `switchyard <command> [flags]`. Each command lives in src/commands/<name>.ts and
// exports `run(argv)`; they are imported lazily so `sidecar` never loads chdb. Flags and help
// come from src/commands/definitions.ts, which the commands parse with.
import { createRequire } from 'node:module';
import { COMMANDS, isCommand, type CommandName } from './commands/definitions.js';
import { helpText, UsageError } from './commands/options.js';
import { holdYoungGeneration, releaseYoungGeneration } from './heap-settings.js';
import { logger } from './logger.js';

type CommandModule = { run(argv: string[]): Promise<void> };

const modules: Record<CommandName, () => Promise<CommandModule>> = {
  dev: () => import('./commands/dev.js'),
  sidecar: () => import('./commands/sidecar.js'),
  collector: () => import('./commands/collector.js'),
  demo: () => import('./commands/demo.js'),
  report: () => import('./commands/report.js'),
  migrate: () => import('./commands/migrate.js'),
  injector: () => import('./commands/injector.js'),
  keys: () => import('./commands/keys.js'),
};

function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

function usage(): string {
  const names = Object.values(COMMANDS);
  const width = Math.max(...names.map((c) => c.name.length)) + 2;
  const firstSentence = (s: string) => s.replace(/(?<=\.)\s.*$/s, '');
  return [
    'usage: switchyard <command> [flags]',
    '',
    'commands:',
    ...names.map((c) => `  ${c.name.padEnd(width)}${firstSentence(c.summary)}`),
    '',
    'switchyard help <command>   flags and environment of a command',
    'switchyard --version        the version',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version());
    return;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic === undefined) console.log(usage());
    else if (isCommand(topic)) console.log(helpText(COMMANDS[topic]));
    else throw new UsageError(`unknown command "${topic}"`);
    return;
  }
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}"`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(helpText(COMMANDS[name]));
    return;
  }
  holdYoungGeneration();
  try {
    const mod = await modules[name]();
    await mod.run(rest);
  } finally {
    releaseYoungGeneration();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    const name = process.argv[2];
    const help = name && isCommand(name) ? helpText(COMMANDS[name]) : usage();
    console.error(`switchyard: ${err.message}\n\n${help}`);
    process.exit(2);
  }
  logger.error('fatal', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
