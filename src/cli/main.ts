/**
 * The `loglake` CLI. Exit codes, the same for every command:
 * - 0 success, including a search with no results and `alerts evaluate` with nothing firing;
 * - 1 runtime failure: AWS, a query that failed, I/O while writing, a data directory in use;
 * - 2 usage error: unknown command or flag, bad value, missing argument, and anything the user named
 *   that is not there: a data directory that does not exist (search, stats, export, alerts evaluate
 *   alike), an unknown `--rule`, an `--output` that cannot be created;
 * - 130 interrupted (Ctrl-C during an export; nothing partial is left).
 * Messages say what was wrong in words, never an error class name; `LOGLAKE_DEBUG=1` adds the stack
 * trace of unexpected errors.
 */
import { Command, CommanderError } from 'commander';
import { withAccessScope } from '../audit/access';
import { ConfigError, InputError, InterruptedError, userMessage } from '../errors';
import { PACKAGE_VERSION } from '../package-root';
import { cliAccessScope } from './access';
import { COMMANDS } from './commands';
import { cliEnv, quietSdkNodeVersionWarning } from './env';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

const HELP_AFTER_ERROR = '(run with --help for usage)';

/**
 * The command `argv` runs (or asks help for): its first word that is not an option, or the word after
 * `help`. The program's own options (`--help`, `--version`) take no value, so this is the word commander
 * dispatches on.
 */
export function requestedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a, i) => !a.startsWith('-') || argv[i - 1] === '--');
  return words[0] === 'help' ? words[1] : words[0];
}

/** Commands that read the lake through subcommands: an access event names both words. */
const WITH_SUBCOMMANDS = new Set(['alerts', 'subject']);

/** The command as an access event names it: `search`, `alerts evaluate`, `subject export`. */
export function commandName(argv: readonly string[]): string {
  const words = argv.filter((a, i) => !a.startsWith('-') || argv[i - 1] === '--');
  const first = requestedCommand(argv) ?? 'loglake';
  return WITH_SUBCOMMANDS.has(first) && words[1] !== undefined ? `${first} ${words[1]}` : first;
}

/**
 * The program, with the requested command fully defined and every other one as its name and summary
 * only (enough for `loglake --help` and for commander's "did you mean"). `exitOverride` everywhere so
 * errors come back to {@link main}.
 * @param argv - user arguments; decides which command is loaded. @default none: names only
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('loglake')
    .description('loglake: a serverless log lake on AWS, and the same pipeline on this machine')
    .version(PACKAGE_VERSION);
  const wanted = requestedCommand(argv);
  for (const entry of COMMANDS) {
    if (entry.name === wanted) {
      (await entry.load())(program);
      program.commands.find((c) => c.name() === entry.name)?.summary(entry.summary);
    } else {
      program
        .command(entry.name)
        .description(entry.summary)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(() => {
          throw new Error(`command ${entry.name} was not loaded (asked for ${String(wanted)})`);
        });
    }
  }
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program)) cmd.exitOverride().showHelpAfterError(HELP_AFTER_ERROR);
  return program;
}

/** Run the CLI with `argv` (user arguments only); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // The CLI's own process: the SDK's Node 20 notice is about SDK releases the user does not pick here.
  quietSdkNodeVersionWarning();
  quietOnClosedStdout();
  try {
    const program = await buildProgram(argv);
    // Every query a command runs is recorded as an access event (src/cli/access.ts).
    await withAccessScope(cliAccessScope(commandName(argv)), () =>
      program.parseAsync([...argv], { from: 'user' }),
    );
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
  if (error instanceof InterruptedError) {
    process.stderr.write(`loglake: ${error.message}\n`);
    return EXIT.interrupted;
  }
  process.stderr.write(`loglake: error: ${userMessage(error)}\n`);
  if (cliEnv.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}

let stdoutGuarded = false;
/** `loglake export --output - | head`: a reader that stops early is not an error worth a stack trace. */
function quietOnClosedStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    process.stderr.write(`loglake: error: cannot write to stdout: ${error.message}\n`);
    process.exit(EXIT.failure);
  });
}

// `tsx src/cli/main.ts …` from a checkout; the binary (and `npm start`) is bin/loglake.cjs, which calls
// main itself, in its own process: tsx's CLI runs the script in a child and SIGKILLs it (exit 130) when
// the child does not acknowledge a Ctrl-C within 30 ms, which a loaded machine misses.
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
