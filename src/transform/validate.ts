/**
 * Decoding and validation of transform output: what the local pipeline and the tests use to read an
 * `Ok` record's `data` back into {@link LogRecord}s.
 */
import { z } from 'zod';
import { CATEGORIES, LEVELS, type LogRecord } from '../schema';

const isoUtcMs = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'ISO-8601 UTC with milliseconds');
const nullableString = z.string().nullable();

/** One normalized record, exactly the columns of `RECORD_COLUMNS`. */
export const logRecordSchema = z.strictObject({
  timestamp: isoUtcMs,
  level: z.enum(LEVELS),
  service: z.string(),
  logger: nullableString,
  message: z.string(),
  correlation_id: nullableString,
  trace_id: nullableString,
  span_id: nullableString,
  user_id: z
    .string()
    .regex(/^u_[0-9a-f]{32}$/, 'a pseudonym')
    .nullable(),
  error_type: nullableString,
  stack_trace: nullableString,
  duration_ms: z.number().finite().nullable(),
  http_method: nullableString,
  http_path: nullableString,
  http_status: z.number().int().min(100).max(599).nullable(),
  attributes: z.record(z.string(), z.string()),
  redactions: z.record(z.string(), z.number().int().positive()),
  ingest_time: isoUtcMs,
  schema_errors: z.array(z.string()),
  message_template: nullableString,
}) satisfies z.ZodType<LogRecord>;

export const partitionKeysSchema = z.strictObject({
  category: z.enum(CATEGORIES),
  dt: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  hour: z.string().regex(/^(?:[01]\d|2[0-3])$/),
});

/**
 * Decodes an `Ok` record's `data` (base64 NDJSON) into records, validating each line.
 * @throws Error naming the line and the problem when the data is not valid transform output.
 */
export function decodeRecords(data: string): LogRecord[] {
  const text = Buffer.from(data, 'base64').toString('utf8');
  if (!text.endsWith('\n')) throw new Error('transform output must end with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      const result = logRecordSchema.safeParse(JSON.parse(line));
      if (!result.success) {
        throw new Error(
          `line ${i + 1}: ${result.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
        );
      }
      return result.data;
    });
}
