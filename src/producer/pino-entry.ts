/**
 * The package entry `loglake/pino`: the transport function itself as `module.exports`, so that pino's
 * `transport.target`, `require('loglake/pino')` and `import loglakeTransport from 'loglake/pino'` (ESM
 * gets a CommonJS module's `module.exports` as its default) all give the function, not `{ default }`.
 * Its options type is `PinoTransportOptions` from `loglake/producer`.
 */
import { loglakeTransport } from './pino';

export = loglakeTransport;
