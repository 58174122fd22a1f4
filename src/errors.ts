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
