/**
 * `loglake compliance-report` over the local lake: the evidence items of issue 14, each with its source,
 * the controls of the chosen standard it supports, and the findings that break the policy. The JSON is
 * the stable interface (schema `loglake.compliance-report/v1`, documented in the README); Markdown and
 * HTML render the same object.
 *
 * The policy is the organisation's (`DEFAULT_CONFIG`, docs/design.md); the configuration in force is the
 * one given. The report's own reads of the lake are recorded as access events like any query (kind
 * `scan`): the audit and volume queries go through `LocalLakeReader`; the redaction rescan reads each
 * Parquet file directly, by row number, through the same hook (`auditedPages`).
 */
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { readStateFile, STATE_FILE } from '../alerts/local';
import { auditedPages } from '../audit/access';
import { DEFAULT_CONFIG, type LogLakeConfig, lockedCategories } from '../config';
import { PACKAGE_VERSION } from '../package-root';
import { PRIVACY_SERVICE } from '../privacy/audit';
import { buildQuery } from '../query/build';
import type { RawRow } from '../query/decode';
import { duckdbGlobLiteral, duckdbString, LOCAL_TABLE, LocalLakeReader } from '../query/duckdb';
import type { LogFilter } from '../query/model';
import { Redactor } from '../redact';
import { DETECTOR_SET_LABEL } from '../redact/version';
import { CATEGORIES, PERSONAS } from '../schema';
import { sqlTimestamp } from '../time';
import { alertCoverageItem, type CoverageState, ruleCoverageRows } from './alert-coverage';
import { lakeObjectKeys } from './integrity';
import { expiresAt, partitionEnd, partitionStart, placeOf } from './retention';
import { type ChainAnchor, formatChainAnchor, TAMPERING, verifyLocalIntegrity } from './verify';

export const REPORT_SCHEMA = 'loglake.compliance-report/v1';
export const STANDARDS = ['iso27001', 'iso42001', 'soc2', 'gdpr'] as const;
export type Standard = (typeof STANDARDS)[number];

export const EVIDENCE_ITEMS = [
  'retention',
  'encryption',
  'accessControl',
  'accessLog',
  'redaction',
  'integrity',
  'alertCoverage',
  'requests',
  'volume',
] as const;
export type EvidenceId = (typeof EVIDENCE_ITEMS)[number];

/**
 * Controls each item supports, per standard: ISO/IEC 27001:2022 Annex A, ISO/IEC 42001:2023 (AI management
 * systems; its Annex A controls on the AI system's event logs, A.6.2.8, and its operation and monitoring,
 * A.6.2.6, and the clause on monitoring, 9.1, written with the standard's number since both standards
 * number their Annex A `A.…`), SOC 2 TSC 2017, GDPR articles.
 */
const CONTROLS: Record<EvidenceId, Record<Standard, readonly string[]>> = {
  retention: {
    iso27001: ['A.5.33', 'A.8.10'],
    iso42001: ['42001 A.6.2.8'],
    soc2: ['C1.2'],
    gdpr: ['Art. 5(1)(e)'],
  },
  encryption: { iso27001: ['A.8.24'], iso42001: [], soc2: ['CC6.1', 'CC6.7'], gdpr: ['Art. 32(1)(a)'] },
  accessControl: {
    iso27001: ['A.5.15', 'A.8.3'],
    iso42001: [],
    soc2: ['CC6.1', 'CC6.3'],
    gdpr: ['Art. 25', 'Art. 32'],
  },
  accessLog: {
    iso27001: ['A.8.15', 'A.8.16'],
    iso42001: ['42001 A.6.2.8'],
    soc2: ['CC7.2'],
    gdpr: ['Art. 30', 'Art. 32(1)(d)'],
  },
  redaction: {
    iso27001: ['A.8.11', 'A.5.34'],
    iso42001: [],
    soc2: ['C1.1'],
    gdpr: ['Art. 25', 'Art. 32(1)(a)'],
  },
  integrity: {
    iso27001: ['A.5.33', 'A.8.15'],
    iso42001: ['42001 A.6.2.8'],
    soc2: ['CC7.1', 'PI1.5'],
    gdpr: ['Art. 5(1)(f)'],
  },
  alertCoverage: {
    iso27001: ['A.8.16'],
    iso42001: ['42001 A.6.2.6', '42001 9.1'],
    soc2: ['CC7.2', 'CC7.3'],
    gdpr: ['Art. 33'],
  },
  requests: {
    iso27001: ['A.5.34'],
    iso42001: [],
    soc2: ['P5.1', 'P4.3'],
    gdpr: ['Art. 15', 'Art. 17', 'Art. 20'],
  },
  volume: { iso27001: ['A.8.16'], iso42001: ['42001 A.6.2.6', '42001 9.1'], soc2: ['CC7.2'], gdpr: [] },
};

export type Cell = string | number | boolean | null;

/** One evidence item: what it shows, where it came from, and how it stands. */
export interface EvidenceItem {
  readonly id: EvidenceId;
  readonly title: string;
  /** Where the evidence was read (the config, a file, a query). */
  readonly source: string;
  readonly controls: readonly string[];
  /** `violation`: a finding breaks the policy (non-zero exit); `notice`: worth reading, not a breach. */
  readonly status: 'ok' | 'notice' | 'violation';
  readonly summary: readonly string[];
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly Cell[]>;
}

export interface Finding {
  readonly item: EvidenceId;
  readonly message: string;
}

export interface ComplianceReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly generatedAt: string;
  readonly generator: string;
  readonly standards: readonly Standard[];
  readonly period: { readonly since: string; readonly until: string };
  /** The local lake, or the deployed stack the evidence was read from (`--stack`). */
  readonly lake:
    | { readonly engine: 'duckdb'; readonly dataDir: string }
    | { readonly engine: 'athena'; readonly stack: string; readonly region: string | null };
  /** `fail` when any finding breaks the policy. */
  readonly status: 'pass' | 'fail';
  readonly findings: readonly Finding[];
  readonly items: readonly EvidenceItem[];
  /**
   * The local lake's integrity log head, `<seq>:<sha256>`: kept outside the lake, it is the `--anchor`
   * of the next report. Absent for a deployed stack, and for a lake without a log.
   */
  readonly anchor?: string;
}

export interface ReportOptions {
  readonly dataDir: string;
  /** The configuration in force. */
  readonly config: LogLakeConfig;
  /** The policy it is checked against. @default DEFAULT_CONFIG */
  readonly policy?: LogLakeConfig;
  readonly since: Date;
  readonly until: Date;
  readonly standards: readonly Standard[];
  readonly now?: Date;
  /**
   * The chain head an earlier report printed: the integrity item checks the log still holds it at its
   * position, and a log rewritten or cut before it is a finding.
   * @default none: the chain is checked on its own, which a rewrite from its first entry passes
   */
  readonly anchor?: ChainAnchor;
}

/** Secret-like detector kinds a stored record must not contain (IPs are truncated, not removed). */
export const NOT_SECRETS = new Set(['ip', 'user_id']);

const DAY = 86_400_000;

export async function localComplianceReport(options: ReportOptions): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const policy = options.policy ?? DEFAULT_CONFIG;
  // Each read points the view at the period's partitions of what it reads (the audit category, or all).
  const reader = await LocalLakeReader.open(options.dataDir, { scope: 'per-query' });
  try {
    const first = {
      retention: retention(options, policy),
      encryption: encryption(),
      accessControl: accessControl(options.config),
      accessLog: await accessLog(reader, options),
      redaction: await redaction(options),
    };
    // After the reads above, whose access events the log records; the head is the next anchor.
    const checked = integrity(options, now);
    const report = assembleReport(
      {
        ...first,
        integrity: checked.body,
        alertCoverage: alertCoverage(options),
        requests: await requests(reader, options),
        volume: await volume(reader, options),
      },
      { engine: 'duckdb', dataDir: options.dataDir },
      { ...options, now },
    );
    return checked.head ? { ...report, anchor: formatChainAnchor(checked.head) } : report;
  } finally {
    reader.close();
  }
}

/** The report around its items: controls per standard, the findings that break the policy, the status. */
export function assembleReport(
  bodies: Record<EvidenceId, ItemBody>,
  lake: ComplianceReport['lake'],
  options: Pick<ReportOptions, 'since' | 'until' | 'standards'> & { readonly now: Date },
): ComplianceReport {
  const items: EvidenceItem[] = EVIDENCE_ITEMS.map((id) => ({
    id,
    controls: options.standards.flatMap((s) => CONTROLS[id][s]),
    ...bodies[id],
  }));
  const findings: Finding[] = items.flatMap((i) =>
    i.status === 'violation'
      ? i.summary.filter((s) => s.startsWith('FINDING')).map((message) => ({ item: i.id, message }))
      : [],
  );
  return {
    schema: REPORT_SCHEMA,
    generatedAt: options.now.toISOString(),
    generator: `loglake ${PACKAGE_VERSION}`,
    standards: options.standards,
    period: { since: options.since.toISOString(), until: options.until.toISOString() },
    lake,
    status: findings.length > 0 ? 'fail' : 'pass',
    findings,
    items,
  };
}

/** An evidence item before the report adds its id and the controls it supports. */
export type ItemBody = Omit<EvidenceItem, 'id' | 'controls'>;

/** An item's status from its summary: a `FINDING: …` line breaks the policy, a `notice: …` line is worth reading. */
export function statusOf(summary: readonly string[]): EvidenceItem['status'] {
  if (summary.some((s) => s.startsWith('FINDING'))) return 'violation';
  return summary.some((s) => s.startsWith('notice')) ? 'notice' : 'ok';
}

function retention(options: ReportOptions, policy: LogLakeConfig): ItemBody {
  const oldest = new Map<string, number>();
  for (const key of lakeObjectKeys(options.dataDir)) {
    const place = placeOf(key);
    if (place?.kind !== 'data') continue;
    const start = partitionStart(place);
    oldest.set(place.category, Math.min(oldest.get(place.category) ?? start, start));
  }
  const summary: string[] = [];
  const rows = CATEGORIES.map((c) => {
    const required = policy.categories[c].expiryDays;
    const inForce = options.config.categories[c].expiryDays;
    const first = oldest.get(c);
    // Expired at the end of its hour plus the days in force, as `loglake cleanup` counts it.
    const overdue = first !== undefined && first + HOUR_MS + inForce * DAY <= options.until.getTime();
    if (inForce < required) {
      summary.push(`FINDING: ${c} is kept ${inForce} days, shorter than the policy's ${required}`);
    }
    if (overdue)
      summary.push(`notice: ${c} holds data older than its ${inForce} days: run \`loglake cleanup\``);
    return [
      c,
      required,
      inForce,
      options.config.categories[c].locked,
      first === undefined ? null : new Date(first).toISOString(),
    ];
  });
  if (summary.length === 0)
    summary.push('every category is kept at least as long as the policy asks, and no longer');
  return {
    title: 'Retention per category',
    source:
      'the configuration in force (locally the config; `loglake cleanup` enforces it) and the partitions present',
    status: statusOf(summary),
    summary,
    columns: ['category', 'policy days', 'in force days', 'locked', 'oldest data'],
    rows,
  };
}

const HOUR_MS = 3_600_000;

function encryption(): ItemBody {
  return {
    title: 'Encryption',
    source: 'the local lake (on AWS: bucket encryption, KMS key rotation and TLS-only bucket policies)',
    status: 'notice',
    summary: [
      'notice: the local lake does not encrypt data at rest: Parquet files, the spool and the pseudonym key are plain files protected only by file permissions',
      'notice: the local endpoint speaks HTTP without TLS; bind it to loopback',
    ],
    columns: ['what', 'local lake'],
    rows: [
      ['data at rest', 'not encrypted'],
      ['data in transit', 'HTTP (no TLS)'],
    ],
  };
}

function accessControl(config: LogLakeConfig): ItemBody {
  const rows: Cell[][] = [];
  for (const persona of PERSONAS) {
    for (const category of CATEGORIES) {
      const grant = config.personas[persona];
      rows.push([persona, category, grant.read.includes(category), grant.write.includes(category)]);
    }
  }
  return {
    title: 'Access-control matrix (persona × category)',
    source:
      'the configuration in force (`personas`); on AWS the persona roles are built from it by the grants',
    status: 'ok',
    summary: PERSONAS.map(
      (p) =>
        `${p}: reads ${config.personas[p].read.join(', ') || 'nothing'}; writes ${config.personas[p].write.join(', ') || 'nothing'}`,
    ),
    columns: ['persona', 'category', 'read', 'write'],
    rows,
  };
}

/**
 * The columns of item 4: an access event's fields, its filters as `key=value` words (`text=boom
 * services=checkout`) and the bytes the engine scanned (Athena only; the local lake does not count them).
 */
export const ACCESS_COLUMNS = [
  'time',
  'principal',
  'persona',
  'command',
  'categories',
  'rows',
  'flags',
  'outcome',
  'filters',
  'bytes scanned',
];

/**
 * The reads among access events: a read of several pages is recorded twice, `started` and then its
 * completion with the same `access.id`; it counts once, as its completion. A `started` event without a
 * completion is a read that was interrupted (a crash, a kill) after its rows began to leave.
 */
export function accessReads<R extends { readonly id?: unknown; readonly outcome?: unknown }>(
  events: readonly R[],
): { readonly reads: R[]; readonly unfinished: number } {
  const ended = new Set(events.filter((e) => e.outcome !== 'started' && e.id).map((e) => String(e.id)));
  const reads = events.filter((e) => !(e.outcome === 'started' && e.id && ended.has(String(e.id))));
  return { reads, unfinished: reads.filter((e) => e.outcome === 'started').length };
}

/** The summary line of reads that started and never completed, when there are any. */
export function unfinishedLine(unfinished: number): string[] {
  return unfinished > 0
    ? [
        `${unfinished} read(s) started and never completed (outcome started: interrupted after its first rows were handed over; the rows are not counted)`,
      ]
    : [];
}

async function accessLog(reader: LocalLakeReader, options: ReportOptions): Promise<ItemBody> {
  const events = await sql(
    reader,
    `SELECT "timestamp", attributes['access.principal'] AS principal, attributes['access.persona'] AS persona,
       attributes['access.command'] AS command, attributes['access.categories'] AS categories,
       attributes['access.rows'] AS n, attributes['access.flags'] AS flags, attributes['access.outcome'] AS outcome,
       array_to_string(list_sort(list_transform(
         list_filter(map_entries(attributes), e -> starts_with(e.key, 'access.filter.')),
         e -> substr(e.key, 15) || '=' || e.value)), ' ') AS filters,
       attributes['access.bytes_scanned'] AS bytes, attributes['access.id'] AS id
     FROM ${LOCAL_TABLE} WHERE category = 'audit' AND service = 'loglake-access'
       AND "timestamp" >= CAST(? AS TIMESTAMP) AND "timestamp" < CAST(? AS TIMESTAMP) ORDER BY "timestamp"`,
    [options.since, options.until],
    auditScope(options),
  );
  const { reads: rows, unfinished } = accessReads(events);
  const flagged = rows.filter((r) => r.flags);
  const principals = new Set(rows.map((r) => r.principal));
  const summary = [
    `${rows.length} read(s) of the lake by ${principals.size} principal(s) in the period`,
    `${flagged.length} flagged (bulk read or a persona reading a locked category)`,
    ...unfinishedLine(unfinished),
  ];
  if (!options.config.accessAudit.enabled) {
    summary.push('FINDING: access auditing is turned off in the configuration (accessAudit.enabled: false)');
  }
  return {
    title: 'Who accessed what',
    source: "the lake's audit category, service loglake-access (every query appends an access event)",
    status: options.config.accessAudit.enabled
      ? flagged.length > 0 || unfinished > 0
        ? 'notice'
        : 'ok'
      : 'violation',
    summary,
    columns: ACCESS_COLUMNS,
    rows: rows.map((r) => [
      iso(r.timestamp),
      str(r.principal),
      str(r.persona),
      str(r.command),
      str(r.categories),
      Number(r.n ?? 0),
      str(r.flags),
      str(r.outcome),
      str(r.filters),
      str(r.bytes),
    ]),
  };
}

/**
 * Text columns a secret could hide in, rescanned row by row (attributes too, key by key). The ids the
 * transform keeps verbatim (correlation, trace and span ids) are rescanned too: the detectors keep real
 * ids (UUIDs, hex trace ids, request ids), and a secret a producer put there, or one written around the
 * transform, is still a secret in the lake. Not `user_id`: it holds a pseudonym.
 */
export const SCANNED = [
  'message',
  'message_template',
  'stack_trace',
  'error_type',
  'http_method',
  'http_path',
  'logger',
  'service',
  'correlation_id',
  'trace_id',
  'span_id',
] as const;

async function redaction(options: ReportOptions): Promise<ItemBody> {
  const redactor = new Redactor({
    ...options.config.redaction,
    pseudonymKey: 'compliance-report-rescan',
  });
  const keys = lakeObjectKeys(options.dataDir).filter((k) => {
    const place = placeOf(k);
    return (
      place?.kind === 'data' &&
      partitionEnd(place) > options.since.getTime() &&
      partitionStart(place) < options.until.getTime()
    );
  });
  const found: Cell[][] = [];
  let scanned = 0;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // The rescan reads every stored record of the period: an access event of its own, like any query.
    const pages = auditedPages(
      {
        dialect: 'duckdb',
        sql: `read_parquet of each object of the period, by row number (${keys.length} object(s))`,
        params: [],
        columns: [],
        reads: { kind: 'scan', filter: { since: options.since, until: options.until } },
      },
      { engine: 'duckdb', dataDir: options.dataDir, instance },
      objectRows(connection, options.dataDir, keys),
    );
    for await (const page of pages) {
      for (const r of page) {
        scanned++;
        const key = String(r.key);
        const fields: Array<[string, unknown]> = SCANNED.map((c) => [c, r[c]]);
        const attrKeys = (r.attr_keys as string[] | null) ?? [];
        const attrValues = (r.attr_values as string[] | null) ?? [];
        for (const [i, k] of attrKeys.entries()) fields.push([`attributes.${k}`, attrValues[i]]);
        for (const [field, value] of fields) {
          const kinds = unredactedKinds(redactor, field, value);
          if (kinds.length > 0) found.push([key, Number(r.row), field, kinds.join(',')]);
        }
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const summary = [
    `unredacted secrets found: ${found.length}`,
    `${scanned} stored record(s) in ${keys.length} object(s) rescanned (all of the period), ${DETECTOR_SET_LABEL}`,
  ];
  for (const f of found) summary.push(`FINDING: ${f[3]} in ${f[0]} row ${f[1]} (${f[2]})`);
  return {
    title: 'Redaction verification',
    source: 'every stored record of the period rescanned with the current detectors (src/redact)',
    status: found.length > 0 ? 'violation' : 'ok',
    summary,
    columns: ['object', 'row', 'field', 'kind'],
    rows: found,
  };
}

/** The rescanned columns of each object's rows, one page per object, each row with its object's key. */
async function* objectRows(
  connection: DuckDBConnection,
  dataDir: string,
  keys: readonly string[],
): AsyncIterable<RawRow[]> {
  for (const key of keys) {
    const result = await connection.run(
      `SELECT ${duckdbString(key)} AS key, file_row_number AS row, ${SCANNED.map((c) => `"${c}"`).join(', ')},
         map_keys(attributes) AS attr_keys, map_values(attributes) AS attr_values
       FROM read_parquet(${duckdbString(duckdbGlobLiteral(join(dataDir, key)))}, file_row_number = true)`,
    );
    yield (await result.getRowObjectsJS()) as RawRow[];
  }
}

/**
 * The secret kinds the current detectors still find in one stored value (`attributes.<key>` for an
 * attribute), empty when it is clean: what the transform would have removed had it seen the value.
 */
export function unredactedKinds(redactor: Redactor, field: string, value: unknown): string[] {
  if (typeof value !== 'string' || value.length === 0) return [];
  const counts: Record<string, number> = {};
  // A field whose name marks it sensitive would be a marker already; the value says it all.
  const path = field.startsWith('attributes.') ? field.slice('attributes.'.length) : field;
  const redacted =
    field.startsWith('attributes.') && redactor.keys.classify(path) !== undefined
      ? redactor.value(path, value, counts)
      : redactor.text(value, counts);
  const kinds = Object.keys(counts).filter((k) => !NOT_SECRETS.has(k));
  return kinds.length > 0 && redacted !== value ? kinds : [];
}

function integrity(options: ReportOptions, now: Date): { body: ItemBody; head?: ChainAnchor } {
  const result = verifyLocalIntegrity(options.dataDir, {
    since: options.since,
    until: options.until,
    now,
    expiresAt: (key) => expiresAt(key, options.config),
    ...(options.anchor ? { anchor: options.anchor } : {}),
  });
  const head = result.chain.head;
  const anchored = options.anchor && !result.findings.some((f) => f.kind === 'anchor-mismatch');
  const summary = [
    `integrity log: ${result.chain.entries} entr(ies), chain ${result.chain.intact ? 'intact' : 'BROKEN'}${
      head ? `; head seq ${head.seq} hash ${head.hash}` : ''
    }`,
    options.anchor
      ? anchored
        ? `anchor ${formatChainAnchor(options.anchor)} (an earlier report's head): in place, the log still extends it`
        : `anchor ${formatChainAnchor(options.anchor)} (an earlier report's head): NOT in place, see the finding below`
      : 'no anchor given: the chain is checked on its own, which a log rewritten from its first entry passes (--anchor)',
    ...(head
      ? [
          `next anchor: ${formatChainAnchor(head)} (keep it outside the lake; pass it as --anchor to the next report)`,
        ]
      : []),
    `${result.manifest.length} object(s) delivered in the period (SHA-256 manifest below); ${result.presentObjects} present, ${result.expired} expired`,
    `Object Lock: not available on the local lake; locked categories (${lockedCategories(options.config).join(', ')}) are protected by the hash chain only`,
  ];
  for (const f of result.findings) {
    summary.push(`${TAMPERING.has(f.kind) ? 'FINDING' : 'notice'}: ${f.kind} ${f.key}: ${f.detail}`);
  }
  return {
    body: {
      title: 'Integrity',
      source: `<data-dir>/.loglake/integrity/chain.jsonl (hash-chained SHA-256 manifest) and the objects present${
        options.anchor ? ', against the anchor given' : ''
      }`,
      status: result.findings.some((f) => TAMPERING.has(f.kind))
        ? 'violation'
        : result.findings.length > 0
          ? 'notice'
          : 'ok',
      summary,
      columns: ['object', 'sha256', 'bytes', 'recorded by', 'at'],
      rows: result.manifest.map((m) => [m.key, m.sha256, m.bytes, m.recordedBy, m.at]),
    },
    ...(head ? { head: { seq: head.seq, hash: head.hash } } : {}),
  };
}

function alertCoverage(options: ReportOptions): ItemBody {
  const rules = options.config.alerts.rules;
  const rows = ruleCoverageRows(rules, readAlertState(options.dataDir));
  return alertCoverageItem({
    source: 'the rules of the configuration in force and the local rule state (.loglake/alerts-state.json)',
    rows,
    headline: `${rows.length} rule(s), ${Object.values(rules).filter((r) => r.enabled).length} enabled`,
  });
}

/** The local rule state; an unreadable file reads as no state (the item then shows none). */
function readAlertState(dataDir: string): Record<string, CoverageState> {
  try {
    return readStateFile(join(dataDir, STATE_FILE));
  } catch {
    return {};
  }
}

async function requests(reader: LocalLakeReader, options: ReportOptions): Promise<ItemBody> {
  const rows = await sql(
    reader,
    `SELECT "timestamp" AS "time", ${REQUEST_FIELDS.map(([field, as]) => `attributes['privacy.${field}'] AS ${as}`).join(', ')}
     FROM ${LOCAL_TABLE} WHERE category = 'audit' AND service = '${PRIVACY_SERVICE}'
       AND attributes['privacy.action'] IS NOT NULL
       AND "timestamp" >= CAST(? AS TIMESTAMP) AND "timestamp" < CAST(? AS TIMESTAMP) ORDER BY "timestamp"`,
    [options.since, options.until],
    auditScope(options),
  );
  return requestsItem(rows, REQUESTS_SOURCE);
}

/**
 * The attributes of a privacy request event (`src/privacy/audit.ts`: what `subject export`, `subject erase`,
 * `subject cancel` and a scheduled erasure's run write) read by item 8, and their column aliases.
 */
export const REQUEST_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['action', 'action'],
  ['principal', 'principal'],
  ['persona', 'persona'],
  ['subject', 'subject'],
  ['outcome', 'outcome'],
  ['records', 'records'],
  ['reason', 'reason'],
  ['kept', 'kept'],
];

export const REQUESTS_SOURCE = `the audit category: the privacy request events (service ${PRIVACY_SERVICE}: privacy.action export, erase-scheduled, erase, cancel, by whom, the subject's lake-keyed reference, the outcome)`;

/**
 * The "requests handled" item of the privacy request events read from the lake or Athena, by the
 * columns `time` and those of {@link REQUEST_FIELDS}.
 */
export function requestsItem(rows: ReadonlyArray<Record<string, unknown>>, source: string): ItemBody {
  const byAction = new Map<string, number>();
  for (const r of rows) byAction.set(str(r.action), (byAction.get(str(r.action)) ?? 0) + 1);
  return {
    title: 'Erasure and export requests handled',
    source,
    status: 'ok',
    summary: [
      `${rows.length} request event(s) in the period${
        byAction.size > 0 ? `: ${[...byAction].map(([k, n]) => `${n} ${k}`).join(', ')}` : ''
      }`,
    ],
    columns: [
      'time',
      'request',
      'by',
      'persona',
      'subject (lake reference)',
      'outcome',
      'records',
      'reason',
      'kept',
    ],
    rows: rows.map((r) => [
      iso(r.time),
      str(r.action),
      str(r.principal),
      str(r.persona),
      str(r.subject),
      str(r.outcome),
      str(r.records),
      str(r.reason),
      str(r.kept),
    ]),
  };
}

async function volume(reader: LocalLakeReader, options: ReportOptions): Promise<ItemBody> {
  const built = buildQuery(
    {
      kind: 'aggregate',
      filter: { since: options.since, until: options.until },
      groupBy: ['category', 'service'],
    },
    { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] },
  );
  return volumeItem(
    await reader.query(built),
    'the lake, by query (the same as `loglake stats --group-by category,service`)',
  );
}

/** The "volume" item of the rows of the aggregate query grouped by category and service. */
export function volumeItem(rows: ReadonlyArray<Record<string, unknown>>, source: string): ItemBody {
  const total = rows.reduce((n, r) => n + Number(r.count ?? 0), 0);
  return {
    title: 'Volume and error rate per category and service',
    source,
    status: 'ok',
    summary: [`${total} record(s) in the period, in ${rows.length} category/service group(s)`],
    columns: ['category', 'service', 'records', 'errors', 'error rate'],
    rows: rows.map((r) => [
      str(r.category),
      str(r.service),
      Number(r.count ?? 0),
      Number(r.errors ?? 0),
      Number(Number(r.error_rate ?? 0).toFixed(4)),
    ]),
  };
}

/**
 * A hand-written read of the lake through the reader, so it is recorded as an access event. `scope`:
 * the partitions its WHERE clause can match (its rows lie in the partition of their own hour, as every
 * event loglake writes itself does), so no other hour is listed or opened.
 */
async function sql(
  reader: LocalLakeReader,
  text: string,
  params: readonly Date[],
  scope: LogFilter,
): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  const built = {
    dialect: 'duckdb' as const,
    sql: text,
    params: params.map(sqlTimestamp),
    columns: [],
    scope,
    reads: { kind: 'scan', filter: scope },
  };
  for await (const page of reader.stream(built)) rows.push(...page);
  return rows;
}

/** The partitions of the audit category in the report's period. */
function auditScope(options: ReportOptions): LogFilter {
  return { since: options.since, until: options.until, categories: ['audit'] };
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

function iso(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return v;
  return str(v);
}
