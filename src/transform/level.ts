/**
 * Log level mapping onto the five levels of the record schema: the one list of level names. The
 * transform reads producers' levels with it, and the CLI reads `--level` with it, so every alias a
 * log line may carry (`panic`, `warning`, `severe`…) is accepted in both places. Import from this
 * module (it has no dependencies), not from the transform's index.
 */
import type { Level } from '../schema';

const NAMES: Readonly<Record<string, Level>> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  dbg: 'DEBUG',
  verbose: 'DEBUG',
  fine: 'DEBUG',
  finer: 'DEBUG',
  finest: 'DEBUG',
  config: 'DEBUG',
  info: 'INFO',
  information: 'INFO',
  informational: 'INFO',
  inf: 'INFO',
  notice: 'INFO',
  log: 'INFO',
  default: 'INFO',
  success: 'INFO',
  warn: 'WARN',
  warning: 'WARN',
  wrn: 'WARN',
  err: 'ERROR',
  error: 'ERROR',
  eror: 'ERROR',
  severe: 'ERROR',
  crit: 'CRITICAL',
  critical: 'CRITICAL',
  fatal: 'CRITICAL',
  panic: 'CRITICAL',
  alert: 'CRITICAL',
  emerg: 'CRITICAL',
  emergency: 'CRITICAL',
};

/** Level names as they appear in text lines (`INFO`, `[warn]`, `E`...): the recognised vocabulary. */
export const LEVEL_WORDS = Object.keys(NAMES);

/**
 * Maps a level name (any case, surrounding spaces ignored, `WARNING`→WARN, `FATAL`→CRITICAL, `PANIC`→
 * CRITICAL, `TRACE`→DEBUG); `undefined` if unknown. A stable export: the CLI's `--level` uses it.
 */
export function levelFromName(name: string): Level | undefined {
  return NAMES[name.trim().toLowerCase()];
}

/**
 * Numeric levels. `scale` says whose numbers they are: pino/bunyan (10 trace … 60 fatal), Python
 * `levelno` (10 DEBUG … 50 CRITICAL), OpenTelemetry `severityNumber` (1-24), syslog severity (0-7).
 */
export function levelFromNumber(n: number, scale: 'pino' | 'python' | 'otel' | 'syslog'): Level | undefined {
  if (!Number.isFinite(n)) return undefined;
  switch (scale) {
    case 'pino':
      if (n < 30) return 'DEBUG';
      if (n < 40) return 'INFO';
      if (n < 50) return 'WARN';
      if (n < 60) return 'ERROR';
      return 'CRITICAL';
    case 'python':
      if (n < 20) return 'DEBUG';
      if (n < 30) return 'INFO';
      if (n < 40) return 'WARN';
      if (n < 50) return 'ERROR';
      return 'CRITICAL';
    case 'otel':
      if (n < 1 || n > 24) return undefined;
      if (n <= 8) return 'DEBUG';
      if (n <= 12) return 'INFO';
      if (n <= 16) return 'WARN';
      if (n <= 20) return 'ERROR';
      return 'CRITICAL';
    case 'syslog':
      if (n < 0 || n > 7 || !Number.isInteger(n)) return undefined;
      if (n <= 2) return 'CRITICAL';
      if (n === 3) return 'ERROR';
      if (n === 4) return 'WARN';
      if (n <= 6) return 'INFO';
      return 'DEBUG';
  }
}
