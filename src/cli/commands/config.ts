/**
 * `loglake config validate [--config f]`: the effective configuration (the defaults with the file merged
 * over them) as JSON on stdout, or every problem with its field and the value received (exit 2).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { LogLakeConfig } from '../../config';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { loadConfig } from '../options';

export const configValidateFlags = z.strictObject({ config: z.string().optional() });

/**
 * Validate and print the effective configuration.
 * @throws ConfigError listing every field at fault (exit 2), InputError for an unreadable file.
 */
export function configValidateCommand(
  flags: z.output<typeof configValidateFlags>,
  io: CliIO = processIO,
): LogLakeConfig {
  const config = loadConfig(flags.config);
  io.stdout(`${JSON.stringify(config, null, 2)}\n`);
  io.stderr(`config: ${flags.config ?? 'the defaults'}: valid\n`);
  return config;
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('the loglake configuration');
  config
    .command('validate')
    .description('print the effective configuration, or every error with its field and the value received')
    .option('--config <file.json>', 'config override to check (merged over the defaults)')
    .addHelpText(
      'after',
      '\nExit 0 when valid, 2 with every problem listed when not.\n\nExamples:\n  loglake config validate --config loglake.json',
    )
    .action((flags: unknown) => {
      configValidateCommand(parseFlags(configValidateFlags, flags));
    });
}
