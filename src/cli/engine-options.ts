/** `--memory-limit` and `LOGLAKE_DUCKDB_MEMORY_LIMIT`: how much memory DuckDB may use before it spills. */
import { InvalidArgumentError } from 'commander';
import { InputError } from '../errors';
import { defaultMemoryLimit, type EngineOptions, parseByteSize } from '../query/engine';
import { cliEnv } from './env';

export interface EngineFlags {
  readonly memoryLimit?: number;
}

/** commander parser of `--memory-limit`. */
export function memoryLimitOption(value: string): number {
  try {
    return parseByteSize(value, '--memory-limit');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--memory-limit: /, ''));
  }
}

export const MEMORY_LIMIT_HELP = `DuckDB memory limit before it spills to <data-dir>/.loglake/tmp, e.g. 512MiB, 4GiB (default LOGLAKE_DUCKDB_MEMORY_LIMIT or min(2 GiB, 25% of RAM) = ${Math.round(defaultMemoryLimit() / 1024 ** 2)} MiB here)`;

/** Engine options from the flag, else the environment, else the default. */
export function engineOptionsOf(flags: EngineFlags): EngineOptions {
  if (flags.memoryLimit !== undefined) return { memoryLimitBytes: flags.memoryLimit };
  if (cliEnv.duckdbMemoryLimit !== undefined) {
    try {
      return { memoryLimitBytes: parseByteSize(cliEnv.duckdbMemoryLimit, 'LOGLAKE_DUCKDB_MEMORY_LIMIT') };
    } catch (error) {
      throw new InputError((error as Error).message);
    }
  }
  return {};
}
