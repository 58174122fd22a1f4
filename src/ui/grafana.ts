/**
 * The four dashboards for Grafana's Amazon Athena data source (`grafana-athena-datasource`), generated
 * from the explorer's definitions (`dashboards.ts`): each panel's SQL is the query builder's Athena SQL
 * for the panel's query, with its values written as SQL literals (Grafana sends SQL text, not execution
 * parameters) and its time range as the data source's macros.
 *
 * Partition pruning: `$__timeFilter` compares `timestamp` only, which prunes nothing; the builder's
 * `dt`/`hour` predicates are kept, their bounds derived from `$__timeFrom()`/`$__timeTo()` with
 * `date_format`, which the engine folds to constants while planning (the Trino tier checks the plan's
 * partition constraint). The time bucket of time-series panels is fixed per dashboard (from its default
 * range): the builder inlines it as a number.
 *
 * A dashboard with a service filter (the explorer's select: errors, AI) gets a `service` variable: a query
 * variable whose SQL is the explorer's list of services for the range, with "All" as a custom value;
 * every panel's SQL is built narrowed to a placeholder service, replaced by a condition on the variable.
 */
import { athenaExecutionParameters, type BuiltQuery, buildQuery, type TableRef } from '../query/build';
import { parseTime, sqlTimestamp } from '../time';
import {
  type DashboardDef,
  type PanelDef,
  panelBucketMs,
  panelQuery,
  serviceFilterQuery,
} from './dashboards';

/** The Athena data source's plugin id. */
export const ATHENA_PLUGIN = 'grafana-athena-datasource';
/** The data source the dashboards name, as the provisioning file creates it. @default uid */
export const DEFAULT_DATASOURCE_UID = 'loglake-athena';

export interface GrafanaOptions {
  readonly database: string;
  readonly workGroup: string;
  /** @default the data source's default region */
  readonly region?: string;
  readonly tables: { readonly logs: string; readonly audit: string };
  /** Which table each category is in (locked categories: `audit`). */
  readonly tablesFor: (categories: PanelDef['filter']['categories']) => readonly ('logs' | 'audit')[];
  /** @default {@link DEFAULT_DATASOURCE_UID} */
  readonly datasourceUid?: string;
}

// Sentinel range the SQL is built for: its values are then replaced by the macros. The hours differ
// (03 and 04) and the days differ, so no bound can be mistaken for another.
const SENTINEL_FROM = new Date('2001-02-03T03:04:05.000Z');
const SENTINEL_TO = new Date('2001-02-04T04:05:06.000Z');
const FROM = '$__timeFrom()';
const TO = '$__timeTo()';

/** The variable of a dashboard with a service filter, as its panels' SQL names it. */
export const SERVICE_VARIABLE = 'service';
/** The chosen service as Grafana writes it into SQL: a string literal, quotes doubled. */
const SERVICE_VALUE = `\${${SERVICE_VARIABLE}:sqlstring}`;
/**
 * What the variable's "All" stands for in the SQL. A custom all value is written in as it is, never
 * formatted (Grafana's template service), so with "All" the panels' condition reads
 * `'__all__' = '__all__'`: no service is left out, events without one included, as in the explorer.
 */
export const ALL_SERVICES = "'__all__'";
// The service a panel's SQL is built narrowed to, then replaced by the variable's condition.
const SERVICE_PLACEHOLDER = '\u0000loglake-service-variable';
const SERVICE_NARROWING = /"service" IN \(\?(\d+)\?\)/g;

/** Each `?` of the builder's partition and time predicates, and the macro expression it becomes. */
const TIME_BOUNDS: ReadonlyArray<{
  readonly sql: RegExp;
  readonly values: readonly string[];
  readonly to: string;
}> = [
  {
    sql: /"dt" BETWEEN \?(\d+)\? AND \?(\d+)\?/g,
    values: ['2001-02-03', '2001-02-04'],
    to: `"dt" BETWEEN date_format(${FROM}, '%Y-%m-%d') AND date_format(${TO}, '%Y-%m-%d')`,
  },
  {
    sql: /\("dt" > \?(\d+)\? OR "hour" >= \?(\d+)\?\)/g,
    values: ['2001-02-03', '03'],
    to: `("dt" > date_format(${FROM}, '%Y-%m-%d') OR "hour" >= date_format(${FROM}, '%H'))`,
  },
  {
    sql: /\("dt" < \?(\d+)\? OR "hour" <= \?(\d+)\?\)/g,
    values: ['2001-02-04', '04'],
    to: `("dt" < date_format(${TO}, '%Y-%m-%d') OR "hour" <= date_format(${TO}, '%H'))`,
  },
  {
    sql: /"timestamp" >= CAST\(\?(\d+)\? AS TIMESTAMP\)/g,
    values: [sqlTimestamp(SENTINEL_FROM)],
    to: `"timestamp" >= ${FROM}`,
  },
  {
    // Grafana's range ends at a whole second it includes.
    sql: /"timestamp" < CAST\(\?(\d+)\? AS TIMESTAMP\)/g,
    values: [sqlTimestamp(SENTINEL_TO)],
    to: `"timestamp" <= ${TO}`,
  },
];

/**
 * A built query as SQL text for Grafana: the time range as macros, every other value a quoted literal.
 * @throws Error when a time bound is not where the builder puts it (the builder changed: fail loudly).
 */
export function grafanaSql(built: BuiltQuery): string {
  const marks = built.sql.split('?').length - 1;
  if (marks !== built.params.length) {
    throw new Error(`grafanaSql: ${marks} placeholders for ${built.params.length} values`);
  }
  let i = 0;
  let sql = built.sql.replace(/\?/g, () => `?${i++}?`);
  let bounds = 0;
  for (const bound of TIME_BOUNDS) {
    sql = sql.replace(bound.sql, (_m, ...groups: unknown[]) => {
      const values = groups.slice(0, bound.values.length).map((g) => built.params[Number(g)]);
      if (values.some((v, k) => v !== bound.values[k])) {
        throw new Error(`grafanaSql: a time bound holds ${JSON.stringify(values)}, not the range's`);
      }
      bounds++;
      return bound.to;
    });
  }
  if (bounds === 0 || bounds % TIME_BOUNDS.length !== 0) {
    throw new Error(
      `grafanaSql: found ${bounds} time bounds; every table read needs all ${TIME_BOUNDS.length}`,
    );
  }
  sql = sql.replace(SERVICE_NARROWING, (m, n: string) =>
    built.params[Number(n)] === SERVICE_PLACEHOLDER
      ? `(${SERVICE_VALUE} = ${ALL_SERVICES} OR "service" = ${SERVICE_VALUE})`
      : m,
  );
  const literals = athenaExecutionParameters(built.params);
  const text = sql.replace(/\?(\d+)\?/g, (_m, n: string) => {
    const value = built.params[Number(n)] ?? '';
    if (TIME_BOUNDS.some((b) => b.values.includes(value))) {
      throw new Error(`grafanaSql: time value ${value} outside a time bound`);
    }
    if (value === SERVICE_PLACEHOLDER) {
      throw new Error('grafanaSql: the service variable outside the service narrowing');
    }
    return literals[Number(n)] ?? "''";
  });
  // The builder reads a map value in a SELECT list through a subquery because Athena binds parameters
  // only in WHERE; with the key a literal, Trino refuses that subquery as correlated, and element_at
  // (what the builder uses in WHERE) says the same.
  return text.replace(
    MAP_VALUE_SUBQUERY,
    (_m, column: string, key: string) => `element_at(${column}, ${key})`,
  );
}

const MAP_VALUE_SUBQUERY =
  /\(SELECT "e"\."v" FROM UNNEST\(("[a-z_]+")\) AS "e"\("k", "v"\) WHERE "e"\."k" = ('(?:[^']|'')*')\)/g;

/** What Grafana shows of a panel: the builder's query, narrowed to the columns its visualization draws. */
export interface GrafanaPanelQuery {
  readonly sql: string;
  /** The data source's format: 0 time series, 1 table. */
  readonly format: 0 | 1;
  readonly type: 'timeseries' | 'barchart' | 'table';
}

/** A panel's SQL with macros, and how Grafana draws it. */
export function grafanaPanel(d: DashboardDef, panel: PanelDef, options: GrafanaOptions): GrafanaPanelQuery {
  const query = panelQuery(
    panel,
    SENTINEL_FROM,
    SENTINEL_TO,
    d.serviceFilter ? { services: [SERVICE_PLACEHOLDER] } : {},
  );
  const tables: TableRef[] = options.tablesFor(panel.filter.categories).map((t) => ({
    database: options.database,
    table: options.tables[t],
  }));
  // Time-series buckets follow the dashboard's default range, not the sentinel's.
  const span = Date.now() - parseTime(d.since, 'since').getTime();
  const sized =
    query.kind === 'aggregate' && query.bucketMs !== undefined
      ? { ...query, bucketMs: panelBucketMs(span) }
      : query;
  const inner = grafanaSql(buildQuery(sized, { dialect: 'athena', tables }));
  const wrap = (select: string, order = '') =>
    `SELECT ${select}\nFROM (\n${inner}\n) AS "q"${order ? `\nORDER BY ${order}` : ''}`;
  const label = (column: string) => `coalesce(CAST("${column}" AS VARCHAR), '(none)')`;
  const v = panel.view;
  switch (v.kind) {
    case 'timeseries':
      return {
        sql: wrap(
          `from_unixtime("bucket_start" / 1000.0) AS "time", ${label(v.groupBy)} AS "${v.groupBy}", "count" AS "events"`,
          '1',
        ),
        format: 0,
        type: 'timeseries',
      };
    case 'bars':
      return {
        sql: wrap(`${label(v.groupBy)} AS "${v.groupBy}", "${v.measure}"`),
        format: 1,
        type: 'barchart',
      };
    case 'hotspots':
      return {
        sql: wrap(
          `${v.groupBy.map((g) => `${label(g)} AS "${g}"`).join(', ')}, "count" AS "events", "last_seen", "sample_correlation_ids" AS "requests"`,
        ),
        format: 1,
        type: 'table',
      };
    case 'records':
      return {
        sql: wrap(`"timestamp", "level", "service", "message", "correlation_id"`),
        format: 1,
        type: 'table',
      };
    case 'totals': {
      const total = v.agg.length === 0 ? '"count"' : v.agg.map((_, k) => `coalesce("a${k}", 0)`).join(' + ');
      return {
        sql: wrap(`coalesce("g0", '(none)') AS "${v.by}", ${total} AS "total"`, '2 DESC'),
        format: 1,
        type: 'barchart',
      };
    }
  }
}

/**
 * The SQL of a dashboard's `service` variable (the services its filter offers over the range, as the
 * explorer lists them), or undefined for a dashboard without a service filter.
 */
export function grafanaServiceVariableSql(d: DashboardDef, options: GrafanaOptions): string | undefined {
  const query = serviceFilterQuery(d, SENTINEL_FROM, SENTINEL_TO);
  if (!query) return undefined;
  const tables: TableRef[] = options.tablesFor(query.filter.categories).map((t) => ({
    database: options.database,
    table: options.tables[t],
  }));
  const inner = grafanaSql(buildQuery(query, { dialect: 'athena', tables }));
  return `SELECT "service"\nFROM (\n${inner}\n) AS "q"\nWHERE "service" IS NOT NULL\nORDER BY "count" DESC`;
}

/**
 * A panel's SQL as Grafana runs it with the `service` variable set to `service` (undefined: "All"),
 * for running it outside Grafana (the `sqlstring` format: quoted, quotes doubled).
 */
export function expandServiceVariable(sql: string, service: string | undefined): string {
  return sql.replaceAll(
    SERVICE_VALUE,
    service === undefined ? ALL_SERVICES : `'${service.replaceAll("'", "''")}'`,
  );
}

/** A dashboard as Grafana's JSON model. */
export function grafanaDashboard(d: DashboardDef, options: GrafanaOptions): Record<string, unknown> {
  const datasource = { type: ATHENA_PLUGIN, uid: options.datasourceUid ?? DEFAULT_DATASOURCE_UID };
  const reuseMinutes = Math.max(1, Math.round((d.refreshSeconds ?? 300) / 60));
  const connectionArgs = {
    region: options.region ?? '__default',
    catalog: '__default',
    database: options.database,
  };
  const servicesSql = grafanaServiceVariableSql(d, options);
  const variables = servicesSql
    ? [
        {
          name: SERVICE_VARIABLE,
          label: 'Service',
          type: 'query',
          datasource,
          query: { refId: 'ServiceVariable', format: 1, rawSQL: servicesSql, connectionArgs },
          definition: servicesSql,
          // Listed again whenever the time range changes, as the explorer's select is.
          refresh: 2,
          includeAll: true,
          allValue: ALL_SERVICES,
          multi: false,
          current: { selected: true, text: 'All', value: '$__all' },
          options: [],
          sort: 1,
          hide: 0,
        },
      ]
    : [];
  const panels = d.panels.map((panel, i) => {
    const q = grafanaPanel(d, panel, options);
    return {
      id: i + 1,
      type: q.type,
      title: panel.title,
      datasource,
      gridPos: { h: 9, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 9 },
      targets: [
        {
          refId: 'A',
          datasource,
          format: q.format,
          rawSQL: q.sql,
          connectionArgs: {
            ...connectionArgs,
            // Athena's query result reuse: a dashboard viewed twice in its refresh interval scans once.
            resultReuseEnabled: true,
            resultReuseMaxAgeInMinutes: reuseMinutes,
          },
        },
      ],
      ...(q.type === 'barchart' ? { options: { orientation: 'horizontal', showValue: 'always' } } : {}),
      ...(q.type === 'timeseries'
        ? {
            fieldConfig: {
              defaults: { custom: { drawStyle: 'bars', stacking: { mode: 'normal' } } },
              overrides: [],
            },
          }
        : {}),
    };
  });
  return {
    uid: `loglake-${d.id}`,
    title: `loglake: ${d.title}`,
    description: d.description,
    tags: ['loglake'],
    timezone: 'utc',
    editable: true,
    schemaVersion: 39,
    time: { from: `now-${d.since}`, to: 'now' },
    refresh: d.refreshSeconds ? `${d.refreshSeconds / 60}m` : '',
    templating: { list: variables },
    annotations: { list: [] },
    panels,
  };
}

/** Grafana's data source provisioning file for the dashboards' Athena data source. */
export function grafanaDatasourceYaml(options: GrafanaOptions): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    '# loglake: the Athena data source its Grafana dashboards use (grafana/provisioning/datasources/).',
    '# Credentials come from the default chain (Amazon Managed Grafana: the workspace IAM role); the',
    '# role needs the workgroup persona’s read grant (see the README, "Grafana").',
    'apiVersion: 1',
    'datasources:',
    '  - name: loglake Athena',
    `    type: ${ATHENA_PLUGIN}`,
    `    uid: ${q(options.datasourceUid ?? DEFAULT_DATASOURCE_UID)}`,
    '    editable: false',
    '    jsonData:',
    '      authType: default',
    ...(options.region ? [`      defaultRegion: ${q(options.region)}`] : []),
    '      catalog: AwsDataCatalog',
    `      database: ${q(options.database)}`,
    `      workgroup: ${q(options.workGroup)}`,
    '',
  ].join('\n');
}

/** The dashboards provider file: Grafana loads the JSON files of `path`. */
export function grafanaDashboardsYaml(path: string): string {
  return [
    '# loglake: Grafana loads the loglake dashboards from this folder (grafana/provisioning/dashboards/).',
    'apiVersion: 1',
    'providers:',
    '  - name: loglake',
    '    folder: loglake',
    '    type: file',
    '    disableDeletion: false',
    '    options:',
    `      path: ${JSON.stringify(path)}`,
    '',
  ].join('\n');
}

/**
 * The data source's expansion of the two macros the panels use (`$__timeFrom()`, `$__timeTo()`: a
 * `TIMESTAMP 'yyyy-MM-dd HH:mm:ss'` literal in UTC), for running a panel's SQL outside Grafana.
 */
export function expandAthenaMacros(sql: string, from: Date, to: Date): string {
  const literal = (d: Date) => `TIMESTAMP '${d.toISOString().slice(0, 19).replace('T', ' ')}'`;
  return sql.replaceAll(FROM, literal(from)).replaceAll(TO, literal(to));
}

/** Files to write: path (relative to the output folder) → content. */
export function grafanaFiles(
  dashboards: readonly DashboardDef[],
  options: GrafanaOptions,
  dashboardsPath: string,
): Record<string, string> {
  const files: Record<string, string> = {
    'provisioning/datasources/loglake-athena.yaml': grafanaDatasourceYaml(options),
    'provisioning/dashboards/loglake.yaml': grafanaDashboardsYaml(dashboardsPath),
  };
  for (const d of dashboards) {
    files[`dashboards/loglake-${d.id}.json`] = `${JSON.stringify(grafanaDashboard(d, options), null, 2)}\n`;
  }
  return files;
}
