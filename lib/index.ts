/** Public construct API: `import { LogLake } from 'loglake/constructs'`. */
export * from './access';
export * from './alerting';
export * from './catalog';
export * from './compaction';
export * from './config';
export * from './function';
export * from './ingest';
export * from './log-lake';
export * from './query';
export * from './stack';
export * from './storage';
