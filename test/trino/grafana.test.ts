/**
 * The Grafana dashboards' SQL, run on the Trino tier after the Athena data source's macro expansion, over
 * a lake the demo's traffic filled through the local pipeline (the Glue tables of the synthesized stack,
 * partition projection included): every panel of the four dashboards answers, with the numbers the
 * explorer shows for the same range on DuckDB, and the plan of each query bounds the `dt` partitions.
 * Dashboards with a service filter (errors, AI): the `service` variable's SQL lists the services the
 * explorer offers, and every panel answers as the explorer does with "All" and with one service chosen.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { athenaTablesFor } from '../../src/cli/options';
import { DEFAULT_CONFIG, lockedCategories } from '../../src/config';
import { sampleTraffic } from '../../src/local/sample-traffic';
import { Shipper } from '../../src/producer';
import { buildQuery, decodeAggregateRow, decodeSearchRow } from '../../src/query';
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';
import { CATEGORIES, DATA_PREFIX } from '../../src/schema';
import {
  DASHBOARDS,
  type DashboardDef,
  type PanelDef,
  type PanelNarrowing,
  panelQuery,
  serviceFilterQuery,
} from '../../src/ui/dashboards';
import {
  expandAthenaMacros,
  expandServiceVariable,
  type GrafanaOptions,
  grafanaPanel,
  grafanaServiceVariableSql,
} from '../../src/ui/grafana';
import { startTestLocal } from '../helpers/local';
import { TrinoSession } from '../helpers/trino';
import { oneTreeTables, synthesizedGlueTables, trinoCreateTable } from '../helpers/trino-ddl';

const now = new Date();
let trino: TrinoSession;
let schema: string;
let dataDir: string;
let reader: LocalLakeReader;
let options: GrafanaOptions;

beforeAll(async () => {
  const { url, lakeRoot } = inject('trino');
  trino = new TrinoSession(url);
  const dir = `grafana-${randomUUID().slice(0, 8)}`;
  dataDir = join(lakeRoot, dir);
  const local = await startTestLocal({ dataDir, flushSeconds: 3600 });
  try {
    const traffic = sampleTraffic(now);
    for (const stream of ['logs', 'audit'] as const) {
      const shipper = new Shipper({ streamName: stream, client: local.client });
      for (const e of traffic.events.filter((x) => x.stream === stream)) await shipper.write(e.line);
      await shipper.close();
    }
    await local.pipeline.flush();
  } finally {
    await local.stop();
    local.client.destroy();
  }
  // Both streams' files are in the one tree of the local lake (two buckets on AWS).
  const glue = oneTreeTables(synthesizedGlueTables());
  schema = `grafana_${dir.replace(/-/g, '_')}`;
  await trino.query(`CREATE SCHEMA hive."${schema}"`);
  for (const table of Object.values(glue)) await trino.query(trinoCreateTable(table, schema, dir));
  reader = await LocalLakeReader.open(dataDir);
  // After the DuckDB reader listed the lake's files (it compares panels over every one of them); Trino
  // lists the partitions it reads at query time.
  // One of the two places always exists: the hour after is today until 22:00 UTC, the hour before is on
  // the 24-hour range's first day from 02:00 UTC on.
  if (plantOutsideHours(dataDir).length === 0) throw new Error('no hour outside the ranges was planted');
  options = {
    database: schema,
    workGroup: 'primary',
    tables: { logs: 'logs', audit: 'audit' },
    tablesFor: (categories) => athenaTablesFor(categories, DEFAULT_CONFIG, false),
  };
}, 600_000);

afterAll(async () => {
  reader?.close();
  if (schema) {
    for (const table of ['logs', 'audit'])
      await trino.query(`DROP TABLE IF EXISTS hive."${schema}"."${table}"`);
    await trino.query(`DROP SCHEMA IF EXISTS hive."${schema}"`);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Files that are not Parquet in hours no dashboard's range touches but on a day its range does: an hour
 * after the range's end (today, unless that hour is tomorrow) and an hour before the 24-hour dashboards'
 * start (on that day, unless it begins at midnight). A panel's SQL that does not prune by `hour` as well
 * as `dt` opens them, and Trino fails the query. Returns the partitions planted.
 */
function plantOutsideHours(root: string): string[] {
  const hourOf = (t: Date) => ({ dt: t.toISOString().slice(0, 10), hour: t.toISOString().slice(11, 13) });
  const after = new Date(now.getTime() + 2 * 3_600_000);
  const before = new Date(now.getTime() - 26 * 3_600_000);
  const dayStart = new Date(now.getTime() - 24 * 3_600_000 + 10 * 60_000);
  const places = [
    ...(hourOf(after).dt === hourOf(now).dt ? [hourOf(after)] : []),
    ...(hourOf(before).dt === hourOf(dayStart).dt ? [hourOf(before)] : []),
  ];
  const planted: string[] = [];
  for (const { dt, hour } of places) {
    for (const category of CATEGORIES) {
      const dir = join(root, DATA_PREFIX, `category=${category}`, `dt=${dt}`, `hour=${hour}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'not-parquet.parquet'), 'this is not a Parquet file');
      planted.push(dir);
    }
  }
  return planted;
}

/** The dashboard's default range as Grafana would ask for it: whole seconds, ending after the demo's events. */
function range(d: DashboardDef): { from: Date; to: Date } {
  const hours = Number(/^(\d+)h$/.exec(d.since)?.[1]);
  const to = new Date(Math.ceil((now.getTime() + 10 * 60_000) / 1000) * 1000);
  return { from: new Date(to.getTime() - hours * 3_600_000), to };
}

/** A panel's answer as comparable numbers: label (or group, or message) → value. */
type Summary = Record<string, number>;

const round = (n: number) => Math.round(n * 10_000) / 10_000;

// A panel without categories reads the logs table on Athena (as the CLI does without --include-audit):
// the unlocked categories.
const unlocked = CATEGORIES.filter((c) => !lockedCategories(DEFAULT_CONFIG).includes(c));

async function onDuckDb(
  panel: PanelDef,
  from: Date,
  to: Date,
  narrow: PanelNarrowing = {},
): Promise<Summary> {
  // Grafana's range includes its last second; the builder's excludes `until`.
  const scoped = panel.filter.categories
    ? panel
    : { ...panel, filter: { ...panel.filter, categories: unlocked } };
  const query = panelQuery(scoped, from, new Date(to.getTime() + 1), narrow);
  const built = buildQuery(query, { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });
  const rows = await reader.query(built);
  const v = panel.view;
  const out: Summary = {};
  const add = (k: string, n: number) => {
    out[k] = round((out[k] ?? 0) + n);
  };
  if (v.kind === 'records') {
    for (const r of rows.map((row) => decodeSearchRow(built.columns, row))) add(r.message, 1);
    return out;
  }
  for (const r of rows.map((row) => decodeAggregateRow(built.columns, row))) {
    const label = (k: string) => String(r.group[k] ?? '(none)');
    switch (v.kind) {
      case 'timeseries':
        add(label(v.groupBy), r.count);
        break;
      case 'bars':
        add(
          label(v.groupBy),
          v.measure === 'count' ? r.count : v.measure === 'errors' ? r.errors : r.errorRate,
        );
        break;
      case 'hotspots':
        add(v.groupBy.map(label).join('|'), r.count);
        break;
      case 'totals':
        add(
          label(v.by),
          v.agg.length === 0
            ? r.count
            : Object.values(r.values).reduce<number>((s, x) => s + (Number(x) || 0), 0),
        );
        break;
    }
  }
  return out;
}

function fromGrafana(panel: PanelDef, rows: Record<string, unknown>[]): Summary {
  const v = panel.view;
  const out: Summary = {};
  const add = (k: string, n: unknown) => {
    out[k] = round((out[k] ?? 0) + Number(n));
  };
  for (const r of rows) {
    switch (v.kind) {
      case 'timeseries':
        add(String(r[v.groupBy]), r.events);
        break;
      case 'bars':
        add(String(r[v.groupBy]), r[v.measure]);
        break;
      case 'hotspots':
        add(v.groupBy.map((g) => String(r[g])).join('|'), r.events);
        break;
      case 'records':
        add(String(r.message), 1);
        break;
      case 'totals':
        add(String(r[v.by]), r.total);
        break;
    }
  }
  return out;
}

describe.each(DASHBOARDS.map((d) => [d.id, d] as const))('Grafana dashboard %s on Trino', (_id, d) => {
  it.each(d.panels.map((p) => [p.id, p] as const))(
    'panel %s answers as the explorer does, its partitions bounded',
    async (_pid, panel) => {
      // Arrange
      const { from, to } = range(d);
      const sql = expandServiceVariable(
        expandAthenaMacros(grafanaPanel(d, panel, options).sql, from, to),
        undefined,
      );

      // Act
      const rows = await trino.rows(sql, schema);
      const plan = await trino.query(`EXPLAIN (TYPE IO, FORMAT JSON) ${sql}`, schema);

      // Assess: the same answer as the explorer's over the same range, and not an empty one
      const grafana = fromGrafana(panel, rows);
      expect(Object.keys(grafana).length, 'rows').toBeGreaterThan(0);
      expect(grafana).toEqual(await onDuckDb(panel, from, to));
      expect(sql).not.toContain('$__');
      // Assess: every table read is constrained on dt, between the range's first and last day
      const io = JSON.parse(String(plan.rows[0]?.[0])) as {
        inputTableColumnInfos: Array<{
          constraint: { columnConstraints: Array<{ columnName: string; domain: { ranges: unknown[] } }> };
        }>;
      };
      expect(io.inputTableColumnInfos.length).toBeGreaterThan(0);
      for (const table of io.inputTableColumnInfos) {
        const dt = table.constraint.columnConstraints.find((c) => c.columnName === 'dt');
        expect(dt, JSON.stringify(table.constraint)).toBeDefined();
        const bounds = JSON.stringify(dt?.domain.ranges);
        expect(bounds).toContain(from.toISOString().slice(0, 10));
        expect(bounds).toContain(to.toISOString().slice(0, 10));
      }
    },
    120_000,
  );
});

describe.each(DASHBOARDS.filter((d) => d.serviceFilter).map((d) => [d.id, d] as const))(
  'Grafana dashboard %s on Trino, its service variable',
  (_id, d) => {
    /** The services the variable lists on Trino, in its order. */
    async function listed(): Promise<string[]> {
      const { from, to } = range(d);
      const sql = expandAthenaMacros(grafanaServiceVariableSql(d, options) ?? '', from, to);
      return (await trino.rows(sql, schema)).map((r) => String(r.service));
    }

    it('lists the services the explorer offers for the range', async () => {
      // Arrange
      const { from, to } = range(d);
      const query = serviceFilterQuery(d, from, new Date(to.getTime() + 1));
      if (!query) throw new Error(`${d.id} has no service filter`);
      const scoped = query.filter.categories
        ? query
        : { ...query, filter: { ...query.filter, categories: unlocked } };
      const built = buildQuery(scoped, { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });

      // Act
      const services = await listed();
      const explorer = (await reader.query(built)).map((row) =>
        String(decodeAggregateRow(built.columns, row).group.service),
      );

      // Assess: more than one (the AI dashboard: the generation service and the support bot), so
      // choosing one narrows the panels
      expect(services.length).toBeGreaterThan(1);
      expect([...services].sort()).toEqual([...explorer].sort());
    }, 120_000);

    it.each(d.panels.map((p) => [p.id, p] as const))(
      'panel %s answers as the explorer does with one service chosen',
      async (_pid, panel) => {
        // Arrange: the busiest service the variable lists (a name with a quote is quoted as Grafana does)
        const { from, to } = range(d);
        const [service] = await listed();
        if (service === undefined) throw new Error('the variable lists no service');
        const sql = expandServiceVariable(
          expandAthenaMacros(grafanaPanel(d, panel, options).sql, from, to),
          service,
        );

        // Act
        const rows = await trino.rows(sql, schema);

        // Assess: the explorer's answer narrowed to that service
        const narrowed = await onDuckDb(panel, from, to, { services: [service] });
        expect(fromGrafana(panel, rows)).toEqual(narrowed);
        expect(sql).not.toContain('${');
      },
      120_000,
    );
  },
);
