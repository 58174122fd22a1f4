/**
 * The `loglake` CLI. Exit codes: 0 success (a search without results included), 1 runtime failure
 * (AWS, I/O, a query that failed), 2 usage error (unknown flag, bad value, missing argument).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, InputError } from '../errors';
import { addAlertsCommand } from './alerts-command';
import { registerCompactCommand } from './compact-command';
import { registerDemoCommand } from './demo-command';
import { cliEnv } from './env';
import { registerLocalCommand } from './local-command';
import { DEFAULT_DATA_DIR, loadConfig } from './options';
import { registerQueryCommands } from './query-commands';
import { registerSendCommand } from './send-command';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The program with every command; `exitOverride` so errors come back to {@link main}. */
export function buildProgram(): Command {
  const program = new Command('loglake')
    .description('loglake: a serverless log lake on AWS, and the same pipeline on this machine')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerLocalCommand(program);
  registerQueryCommands(program);
  registerSendCommand(program);
  registerCompactCommand(program);
  addAlertsCommand(program, { defaultDataDir: cliEnv.dataDir ?? DEFAULT_DATA_DIR, loadConfig });
  registerDemoCommand(program);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program)) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

const VERSION = (require('../../package.json') as { version: string }).version;

/** Run the CLI with `argv` (user arguments only); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return exitCodeFor(error);
  }
}

/** Map an error to an exit code, printing what the user needs to know. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has printed its message (and help) already.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return EXIT.usage;
  }
  if (error instanceof InputError || error instanceof ConfigError) {
    process.stderr.write(`loglake: error: ${error.message}\n`);
    return EXIT.usage;
  }
  const message =
    error instanceof Error
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
      : String(error);
  process.stderr.write(`loglake: ${message}\n`);
  if (cliEnv.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}

// `tsx src/cli/main.ts …` (npm start); the installed binary is bin/loglake.cjs, which calls main itself.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = exitCodeFor(error);
    },
  );
}
