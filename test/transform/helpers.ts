import { gzipSync } from 'node:zlib';
import { DEFAULT_CONFIG, type LogLakeConfig, resolveConfig } from '../../src/config';
import type { LogRecord, StreamName } from '../../src/schema';
import {
  decodeRecords,
  settingsFromConfig,
  type TransformInputRecord,
  type TransformOptions,
  type TransformOutputRecord,
  type TransformSettings,
  transformRecords,
} from '../../src/transform';

export const PSEUDONYM_KEY = 'test-pseudonym-key';
/** 2026-01-02T03:04:05.000Z */
export const ARRIVAL = Date.UTC(2026, 0, 2, 3, 4, 5);

export function settings(
  stream: StreamName = 'logs',
  override: Parameters<typeof resolveConfig>[0] = {},
): TransformSettings {
  const config: LogLakeConfig = override === undefined ? DEFAULT_CONFIG : resolveConfig(override);
  return settingsFromConfig(config, PSEUDONYM_KEY, stream);
}

export function input(data: string | Uint8Array, recordId = 'r0', arrival = ARRIVAL): TransformInputRecord {
  return { recordId, data: Buffer.from(data).toString('base64'), approximateArrivalTimestamp: arrival };
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}

export function cwl(payload: Record<string, unknown>): Buffer {
  return gzipSync(JSON.stringify(payload));
}

/** Transforms one record and returns its output and decoded records (empty unless Ok). */
export function transformOne(
  data: string | Uint8Array,
  s: TransformSettings = settings(),
  options: TransformOptions = {},
): { output: TransformOutputRecord; records: LogRecord[] } {
  const result = transformRecords([input(data)], s, options);
  const output = result.records[0];
  if (!output) throw new Error('no output record');
  return { output, records: output.result === 'Ok' ? decodeRecords(output.data) : [] };
}

/** The single record of a one-event input. */
export function normalizeOne(data: string | Uint8Array, s: TransformSettings = settings()): LogRecord {
  const { records } = transformOne(data, s);
  const record = records[0];
  if (records.length !== 1 || !record) throw new Error(`expected one record, got ${records.length}`);
  return record;
}
