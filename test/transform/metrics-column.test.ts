import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeWriter } from '../../src/local/writer';
import { buildQuery, decodeSearchRow } from '../../src/query';
import { LOCAL_TABLE, LocalLakeReader, runDuckDb } from '../../src/query/duckdb';
import { RECORD_COLUMNS } from '../../src/schema';
import { transformRecords } from '../../src/transform';
import { ARRIVAL, input, json, normalizeOne, settings } from './helpers';

describe('metrics (numeric fields without a column)', () => {
  it('keeps numbers as numbers in metrics, text in attributes', () => {
    const record = normalizeOne(
      json({ time: ARRIVAL, event: 'COST_TRACKED', cost_usd: 0.001, tokens: 100, model: 'gpt-4', ok: true }),
    );
    expect(record.metrics).toEqual({ cost_usd: 0.001, tokens: 100 });
    expect(record.attributes).toEqual({ model: 'gpt-4', ok: 'true' });
    expect(record.message).toBe('COST_TRACKED');
  });

  it('keeps a number that redaction turned into a marker as text', () => {
    const record = normalizeOne(json({ time: ARRIVAL, msg: 'paid', service: 's', ref: 4111111111111111 }));
    expect(record.metrics).toEqual({});
    expect(record.attributes.ref).toBe('[REDACTED:card]');
  });

  it('reads unquoted logfmt numbers as numbers, quoted ones and zero-padded ids as text', () => {
    const record = normalizeOne(
      'time=2026-01-02T03:04:05Z level=info msg=done tokens=100 cost=0.002 code="42" order=0042',
    );
    expect(record.metrics).toEqual({ tokens: 100, cost: 0.002 });
    expect(record.attributes).toMatchObject({ code: '42', order: '0042' });
  });

  it('is a map<string,double> column of the schema, next to attributes', () => {
    const names = RECORD_COLUMNS.map((c) => c.name);
    expect(RECORD_COLUMNS.find((c) => c.name === 'metrics')?.type).toBe('map<string,double>');
    expect(names.indexOf('metrics')).toBe(names.indexOf('attributes') + 1);
  });
});

describe('metrics in the local lake', () => {
  let root: string;
  let writer: LakeWriter;
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'loglake-metrics-'));
    mkdirSync(join(root, 'staging'), { recursive: true });
    writer = await LakeWriter.open(join(root, 'data'), join(root, 'staging'));
  });
  afterEach(() => {
    writer.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('are written to Parquet as numbers that DuckDB can sum, and come back in search results', async () => {
    const lines = [0.001, 0.002, 0.004].map((cost, i) =>
      json({
        time: ARRIVAL,
        level: 'info',
        service: 'llm',
        msg: 'COST_TRACKED',
        cost_usd: cost,
        tokens: 100 * (i + 1),
      }),
    );
    const inputs = lines.map((l, i) => input(l, `r${i}`));
    const { records } = transformRecords(inputs, settings());
    const segment = {
      id: 'seg-metrics',
      records: inputs.map((r) => ({ id: r.recordId, arrival: ARRIVAL, data: r.data, bytes: 1 })),
    };
    await writer.deliver(segment, records, join(root, 'staging', 'manifest.json'));

    const reader = await LocalLakeReader.open(join(root, 'data'));
    try {
      const [sum] = await runDuckDb(reader.connection, {
        dialect: 'duckdb',
        sql: `SELECT sum(metrics['tokens']) AS tokens, round(sum(metrics['cost_usd']), 6) AS cost, any_value(typeof(metrics)) AS type FROM ${LOCAL_TABLE}`,
        params: [],
        columns: [],
      });
      expect(sum).toMatchObject({ tokens: 600, cost: 0.007, type: 'MAP(VARCHAR, DOUBLE)' });
      const built = buildQuery(
        { kind: 'search', filter: { since: new Date(ARRIVAL - 60_000), until: new Date(ARRIVAL + 60_000) } },
        { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] },
      );
      const rows = (await reader.query(built)).map((r) => decodeSearchRow(built.columns, r));
      expect(rows.map((r) => r.metrics.tokens).sort()).toEqual([100, 200, 300]);
    } finally {
      reader.close();
    }
  });
});

describe('numbers a library adds about itself', () => {
  it('stay text in attributes; any other number is a metric with its exact value', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'pid',
          'process.pid',
          'thread.id',
          'log.origin.file.line',
          'level_value',
          'v',
          'flags',
        ),
        fc.constantFrom('cost_usd', 'tokens', 'bytes', 'retries', 'context.step'),
        fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
        (meta, measure, n) => {
          const object: Record<string, unknown> = { message: 'm', level: 'info', service: 's' };
          const put = (path: string) => {
            const keys = path.split('.');
            let o = object;
            for (const k of keys.slice(0, -1)) {
              o[k] ??= {};
              o = o[k] as Record<string, unknown>;
            }
            o[keys.at(-1) as string] = n;
          };
          put(meta);
          put(measure);
          const record = normalizeOne(JSON.stringify(object));
          expect(record.attributes[meta]).toBe(String(n));
          expect(record.metrics[meta]).toBeUndefined();
          // JSON has no -0: it is written 0.
          expect(record.metrics[measure]).toBe(n + 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
