/**
 * `loglake config validate [--config f | --cdk-json f]`: the effective configuration as JSON on stdout,
 * or every problem with its field and the value received (exit 2).
 *
 * Which configuration: `--config` names the file the local pipeline and the CLI read (merged over the
 * defaults). Without it, the one `cdk deploy` would use: the `loglake` key of the `context` in `cdk.json`
 * (`--cdk-json`, by default `./cdk.json` when there is one), read as `bin/app.ts` reads it. Context given
 * on the `cdk` command line (`-c loglake=…`) or in `cdk.context.json` is not seen. Neither: the defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { CONFIG_CONTEXT_KEY, configFromContextValue, type LogLakeConfig } from '../../config';
import { InputError, parseJsonOrThrow } from '../../errors';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { loadConfig } from '../options';

export const configValidateFlags = z.strictObject({
  config: z.string().optional(),
  cdkJson: z.string().optional(),
});

/** `cdk.json` in the working directory, as the CDK CLI finds it. */
export const CDK_JSON = 'cdk.json';

/**
 * Validate and print the effective configuration.
 * @param cwd - where `cdk.json` is looked for. @default the working directory
 * @throws ConfigError listing every field at fault (exit 2), InputError for an unreadable file.
 */
export function configValidateCommand(
  flags: z.output<typeof configValidateFlags>,
  io: CliIO = processIO,
  cwd = process.cwd(),
): LogLakeConfig {
  if (flags.config !== undefined && flags.cdkJson !== undefined) {
    throw new InputError('--config and --cdk-json name two configurations: give one');
  }
  let config: LogLakeConfig;
  let source: string;
  const cdkJson = flags.cdkJson ?? (flags.config === undefined ? resolve(cwd, CDK_JSON) : undefined);
  if (cdkJson !== undefined && (flags.cdkJson !== undefined || existsSync(cdkJson))) {
    ({ config, source } = fromCdkJson(cdkJson));
  } else {
    config = loadConfig(flags.config);
    source = flags.config ?? 'the defaults';
  }
  io.stdout(`${JSON.stringify(config, null, 2)}\n`);
  io.stderr(`config: ${source}: valid\n`);
  return config;
}

/** The config `cdk deploy` builds from `file`'s `context.loglake`, and how to name where it came from. */
function fromCdkJson(file: string): { config: LogLakeConfig; source: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InputError(`--cdk-json: cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const json = parseJsonOrThrow(text, file, 'Invalid cdk.json');
  const context =
    json !== null && typeof json === 'object' && !Array.isArray(json)
      ? (json as { context?: unknown }).context
      : undefined;
  const raw =
    context !== null && typeof context === 'object' && !Array.isArray(context)
      ? (context as Record<string, unknown>)[CONFIG_CONTEXT_KEY]
      : undefined;
  const source = `${file} context.${CONFIG_CONTEXT_KEY}`;
  return {
    config: configFromContextValue(raw, source),
    source: raw === undefined ? `${file} (no context.${CONFIG_CONTEXT_KEY}: the defaults)` : source,
  };
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('the loglake configuration');
  config
    .command('validate')
    .description('print the effective configuration, or every error with its field and the value received')
    .option(
      '--config <file.json>',
      'config override to check (merged over the defaults), as the CLI reads it',
    )
    .option(
      '--cdk-json <file>',
      `the CDK app's ${CDK_JSON}: its context.loglake, as cdk deploy reads it (default ./${CDK_JSON} when there is one and no --config)`,
    )
    .addHelpText(
      'after',
      `\nWithout --config, the configuration cdk deploy would use: context.loglake of ./${CDK_JSON} (not -c\n` +
        'on the cdk command line, nor cdk.context.json); without either, the defaults.\n' +
        'Exit 0 when valid, 2 with every problem listed when not.\n\nExamples:\n  loglake config validate\n  loglake config validate --config loglake.json\n  loglake config validate --cdk-json infra/cdk.json',
    )
    .action((flags: unknown) => {
      configValidateCommand(parseFlags(configValidateFlags, flags));
    });
}
