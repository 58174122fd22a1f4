/**
 * The errors of loglake, and the one way an invalid configuration is reported: {@link configError}
 * (and {@link configErrorFromZod} for a failed schema parse) render every problem as
 * `<path>: <message> (received <value>)`, one per line, whatever the source (the config model, cdk.json
 * context, a Lambda's environment, encoded settings).
 */
import type { core } from 'zod';

/** Base error of loglake; subclasses set `name` so logs and CLIs can tell them apart. */
export class LogLakeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogLakeError';
  }
}

export interface ConfigProblem {
  /** Dotted path of the offending field, starting at the config source (e.g. `loglake.firehose.bufferSizeMiB`). */
  readonly path: string;
  readonly message: string;
  readonly received: unknown;
}

/** Invalid configuration; `problems` lists every field at fault. */
export class ConfigError extends LogLakeError {
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** Bad user input to a CLI or API (a flag, a time expression, a query parameter). */
export class InputError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** A remote call (AWS API, local endpoint) failed after retries. */
export class DeliveryError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

/** The user stopped the operation (Ctrl-C); what it was writing has been removed. */
export class InterruptedError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InterruptedError';
  }
}

/**
 * What an unexpected error says, without the class name of the error (`DeliveryError:`, `TypeError:`).
 * An AWS service error keeps its error code, which is what AWS documents.
 */
export function userMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message || 'failed without a message';
  return '$metadata' in error && error.name !== 'Error' ? `${message} (AWS ${error.name})` : message;
}

/**
 * A {@link ConfigError} listing `problems` under `title`:
 * ```
 * Invalid loglake configuration:
 *   - loglake.firehose.bufferSizeMiB: Too big: expected number to be <=128 (received 512)
 * ```
 */
export function configError(
  title: string,
  problems: readonly ConfigProblem[],
  options?: { cause?: unknown },
): ConfigError {
  const lines = problems.map((p) => `  - ${p.path}: ${p.message} (received ${describeReceived(p.received)})`);
  return new ConfigError(`${title}:\n${lines.join('\n')}`, problems, options);
}

export interface ZodProblemOptions {
  /** Prefix of every path, e.g. `loglake` for the config model or a variable name; none for a whole environment. */
  readonly source?: string;
  /** What was parsed: the received value of an issue without `input` is looked up here by its path. */
  readonly input: unknown;
}

/** {@link configError} for the issues of a failed zod parse. */
export function configErrorFromZod(
  title: string,
  issues: readonly core.$ZodIssue[],
  options: ZodProblemOptions,
): ConfigError {
  return configError(title, zodProblems(issues, options));
}

/** One problem per issue (per key of an unknown-keys issue), paths prefixed with `options.source`. */
export function zodProblems(issues: readonly core.$ZodIssue[], options: ZodProblemOptions): ConfigProblem[] {
  const prefix = options.source === undefined ? [] : [options.source];
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...prefix, ...issue.path.map(String), key].join('.'),
        message: 'unknown field',
        received: valueAt(options.input, [...issue.path, key]),
      }));
    }
    return [
      {
        path: [...prefix, ...issue.path.map(String)].join('.') || '(root)',
        message: issue.message,
        received: issue.input !== undefined ? issue.input : valueAt(options.input, issue.path),
      },
    ];
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** A received value as it appears in a message: JSON, cut at 80 characters; `nothing` when absent. */
export function describeReceived(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

/** `JSON.parse(text)`, or a {@link configError} under `title` naming `source` when the text is not JSON. */
export function parseJsonOrThrow(text: string, source: string, title: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    throw configError(title, [{ path: source, message: `not valid JSON${reason}`, received: text }], {
      cause,
    });
  }
}
