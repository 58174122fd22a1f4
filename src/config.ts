/**
 * The one configuration model of loglake. Pure (zod only): the CDK app (`lib/config.ts`), the Lambdas
 * (a slice passed through the environment) and the local pipeline all validate with this schema.
 *
 * Overrides are deep-merged onto {@link DEFAULT_CONFIG} (objects merge key by key, arrays replace), then
 * the whole result is validated at once; every problem is reported with its field path and the value
 * received.
 */
import { z } from 'zod';
import { alertsSchema, DEFAULT_ALERTS } from './alerts/config';
import { type ConfigError, configError, configErrorFromZod, parseJsonOrThrow } from './errors';
import { CATEGORIES, type Category, LEVELS, PERSONAS, type Persona } from './schema';
import { DEFAULT_SOURCES, sourcesSchema } from './sources/config';
import { DEFAULT_START_PATTERN } from './transform/multiline';
import { parseFlowLogFormat } from './transform/sources/vpc-flow';
import { isTimeZoneName } from './transform/zone';

const category = z.enum(CATEGORIES);
const days = z.number().int().min(1).max(36_500);
/** S3 buffering of one delivery stream (Firehose with dynamic partitioning: 60-900 s, 64-128 MiB). */
const streamBuffering = z.strictObject({
  bufferIntervalSeconds: z.number().int().min(60).max(900),
  bufferSizeMiB: z.number().int().min(64).max(128),
});

/** S3 storage classes a category may tier into (names as in S3 lifecycle rules). */
export const STORAGE_CLASSES = [
  'STANDARD_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
] as const;
export type StorageClassName = (typeof STORAGE_CLASSES)[number];

const transitionSchema = z.strictObject({
  storageClass: z.enum(STORAGE_CLASSES),
  afterDays: days,
});

export const categoryPolicySchema = z
  .strictObject({
    /** Days after creation when objects are deleted. */
    expiryDays: days,
    /** Storage tiers, in order. */
    transitions: z.array(transitionSchema).max(5),
    /** Locked categories are delivered to the Object Lock (audit) bucket through the `audit` stream. */
    locked: z.boolean(),
    /** Fraction of DEBUG events kept (1 = keep all). Only meaningful for categories holding DEBUG. */
    sampleRate: z.number().min(0).max(1),
  })
  .superRefine((p, ctx) => {
    let previous = 0;
    p.transitions.forEach((t, i) => {
      if (t.afterDays <= previous) {
        ctx.addIssue({
          code: 'custom',
          path: ['transitions', i, 'afterDays'],
          input: t.afterDays,
          message: `must be greater than the previous transition's day (${previous})`,
        });
      }
      if (t.storageClass === 'STANDARD_IA' && t.afterDays < 30) {
        ctx.addIssue({
          code: 'custom',
          path: ['transitions', i, 'afterDays'],
          input: t.afterDays,
          message: 'S3 does not transition to STANDARD_IA before 30 days',
        });
      }
      if (t.afterDays >= p.expiryDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['transitions', i, 'afterDays'],
          input: t.afterDays,
          message: `must be less than expiryDays (${p.expiryDays})`,
        });
      }
      previous = t.afterDays;
    });
  });
export type CategoryPolicy = z.infer<typeof categoryPolicySchema>;

const personaSchema = z.strictObject({
  read: z.array(category),
  write: z.array(category),
});
export type PersonaGrant = z.infer<typeof personaSchema>;

/** A categorization rule: the first rule whose every given condition matches sets the category. */
export const categoryRuleSchema = z.strictObject({
  category,
  /** Matches when the logger name starts with any of these prefixes. */
  loggerPrefixes: z.array(z.string().min(1)).optional(),
  /** Matches when the service name starts with any of these prefixes. */
  servicePrefixes: z.array(z.string().min(1)).optional(),
  /** Matches when the level is one of these. */
  levels: z.array(z.enum(LEVELS)).optional(),
  /** Matches when the event carries HTTP request fields (method, path or status). */
  http: z.boolean().optional(),
  /** Matches when any of these attribute keys is present and truthy (e.g. `audit`, `event.audit`). */
  markers: z.array(z.string().min(1)).optional(),
});
export type CategoryRule = z.infer<typeof categoryRuleSchema>;

const timeZone = z
  .string()
  .refine(isTimeZoneName, 'must be an IANA time zone name such as Europe/Berlin or America/New_York');

/**
 * Zones for timestamps written without one. Looked up by the event's service, then its source (a
 * CloudWatch Logs log group), then `default`; with none, such a time is read as UTC and flagged.
 */
/** Where a plain-text event begins (a stack trace's lines attach to their event regardless). */
export const multilineSchema = z.strictObject({
  /** Lines matching this begin an event; lines after one that look like no event of their own continue it. */
  startPattern: z
    .string()
    .min(1)
    .max(200)
    .refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid JavaScript regular expression'),
});

/** A VPC Flow Logs `LogFormat`: `${field}` names separated by spaces (`src/transform/sources/vpc-flow.ts`). */
const vpcFlowLogFormat = z
  .string()
  .max(2048)
  .refine((f) => parseFlowLogFormat(f) !== undefined, {
    message:
      'must be VPC Flow Logs fields written $' +
      '{field}, separated by spaces, naming srcaddr or dstaddr and action or log-status',
  });

export const timeZonesSchema = z.strictObject({
  services: z.record(z.string().min(1), timeZone),
  sources: z.record(z.string().min(1), timeZone),
  default: timeZone.optional(),
});

export const configSchema = z
  .strictObject({
    /** Prefix for physical names (Glue database, Athena workgroup). */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{1,30}$/,
        'lowercase letters, digits and dashes, 2-31 chars, starting with a letter',
      ),
    categories: z.strictObject(
      Object.fromEntries(CATEGORIES.map((c) => [c, categoryPolicySchema])) as Record<
        Category,
        typeof categoryPolicySchema
      >,
    ),
    personas: z.strictObject(
      Object.fromEntries(PERSONAS.map((p) => [p, personaSchema])) as Record<Persona, typeof personaSchema>,
    ),
    /** Who may export and erase a person's logs (`loglake subject`). */
    privacy: z.strictObject({
      /** Personas allowed to run `loglake subject export|erase|status|cancel` (on AWS their roles get the key table). */
      personas: z.array(z.enum(PERSONAS)),
    }),
    objectLock: z.strictObject({
      mode: z.enum(['GOVERNANCE', 'COMPLIANCE']),
      /**
       * Default retention of the audit bucket; defaults to the shortest locked category's expiry, and may
       * not exceed it. A shorter lock is accepted (a stack that must be removable soon), but the
       * compliance report finds it: records of that category become deletable before they expire.
       */
      retentionDays: days.optional(),
    }),
    firehose: z.strictObject({
      /** Buffer interval before delivery to S3 (Firehose: 60-900 s with dynamic partitioning). */
      bufferIntervalSeconds: z.number().int().min(60).max(900),
      /** Buffer size before delivery to S3 (Firehose: 64-128 MiB with Parquet conversion). */
      bufferSizeMiB: z.number().int().min(64).max(128),
      /**
       * Lambda processor buffer (Firehose: 0.2-3 MB). Normalized rows run ~2-3x the raw event and the
       * response is base64, so 1 MB keeps a typical response well under Lambda's 6 MB; larger buffers
       * make the transform defer records for re-ingestion more often.
       */
      processorBufferSizeMiB: z.number().min(0.2).max(3),
      processorBufferIntervalSeconds: z.number().int().min(0).max(900),
      /**
       * Per-stream S3 buffering, overriding the two settings above for that stream. The `audit` stream
       * buffers longer by default: its categories are under Object Lock, so their small objects cannot
       * be compacted away, and a longer buffer makes fewer of them.
       */
      streams: z.strictObject({
        logs: streamBuffering.optional(),
        audit: streamBuffering.optional(),
      }),
    }),
    /** Scheduled compaction of closed hours on S3 (unlocked categories; `src/compaction`). */
    compaction: z.strictObject({
      /** Deploy the compaction Lambda and its schedule. */
      enabled: z.boolean(),
      /** Minutes between runs (EventBridge rate). */
      scheduleMinutes: z.number().int().min(5).max(1440),
      /** An hour is compacted once it ended this long ago (covers Firehose's buffer and late deliveries). */
      closedAfterMinutes: z.number().int().min(16).max(1440),
      /** Hours a run looks back for late objects (each category-day is one S3 listing). */
      lookbackHours: z.number().int().min(1).max(168),
      /** A compacted object this large is not rewritten again when late objects arrive. */
      targetFileMiB: z.number().int().min(16).max(4096),
    }),
    output: z.strictObject({
      format: z.enum(['parquet']),
      compression: z.enum(['SNAPPY', 'GZIP', 'UNCOMPRESSED']),
    }),
    /** Raw Firehose error output (unredacted bytes). */
    errorOutput: z.strictObject({ expiryDays: days }),
    athena: z.strictObject({
      /** Per-query bytes-scanned cutoff (Athena minimum 10 MB). */
      bytesScannedCutoffPerQuery: z
        .number()
        .int()
        .min(10 * 1024 * 1024),
      /** Days Athena query results are kept. */
      resultsExpiryDays: days,
    }),
    /** Retention of the pipeline's own Lambda log groups. */
    lambdaLogRetentionDays: z.union([
      z.literal(1),
      z.literal(3),
      z.literal(5),
      z.literal(7),
      z.literal(14),
      z.literal(30),
      z.literal(60),
      z.literal(90),
      z.literal(180),
      z.literal(365),
    ]),
    redaction: z.strictObject({
      /** IPv4 addresses are truncated to this prefix length (0-32; 0 removes the address entirely). */
      ipv4PrefixLength: z.number().int().min(0).max(32),
      /** IPv6 addresses are truncated to this prefix length (0-128). */
      ipv6PrefixLength: z.number().int().min(0).max(128),
      /** Extra key names whose values are always redacted (matched case- and separator-insensitively). */
      extraSensitiveKeys: z.array(z.string().min(1)),
    }),
    transform: z.strictObject({
      /**
       * How far back an event's own time is kept, in hours. An event is always kept at its own time
       * while that lies within its category's retention (`expiryDays`): backfilled history lands in its
       * own partition. This bound only shortens that; older events use arrival time (with a schema error).
       */
      maxPastHours: z.number().int().min(1).optional(),
      /** Events with a timestamp further than this in the future use arrival time. */
      maxFutureMinutes: z.number().int().min(0),
      /** Categorization rules, first match wins; an explicit valid `category` field always wins. */
      rules: z.array(categoryRuleSchema),
      /** Category used when nothing matches. */
      defaultCategory: category,
      /** Zones for zone-less timestamps (`2026-01-02 03:04:05`), by service or source. */
      timeZones: timeZonesSchema,
      /** Multi-line plain-text events. */
      multiline: multilineSchema,
      /**
       * Custom VPC Flow Logs formats (the flow log's `LogFormat`, `${version} ${srcaddr} …`), besides
       * the default format, which is always read. Flow logs sent to Firehose or CloudWatch Logs carry no
       * header, so a custom format is recognized by its field count and values.
       */
      vpcFlowLogFormats: z.array(vpcFlowLogFormat).max(8),
    }),
    /** Alert rules, pipeline alarms and notification channels (`src/alerts/config.ts`). */
    alerts: alertsSchema,
    /** Logs AWS already has: CloudWatch Logs subscriptions, the WAF stream (`src/sources/config.ts`). */
    sources: sourcesSchema,
    /** Access to logs is itself logged (`src/audit/access.ts`): every query appends an event to `audit`. */
    accessAudit: z.strictObject({
      /** Record an access event for every query (turning it off is itself a compliance-report finding). */
      enabled: z.boolean(),
      /** A record query (search, export) returning more rows than this is a bulk read (WARN, alerted). */
      bulkReadRows: z.number().int().min(1),
      /**
       * AWS: a CloudTrail trail over the lake's buckets (object reads, deletions, lock changes; optionally
       * the region's management events), for reads that bypass loglake. Off by default: S3 data events
       * cost $0.10 per 100,000, and an organisation trail with data events may already record them.
       */
      trail: z.strictObject({
        enabled: z.boolean(),
        /** Record the region's management events too (Athena, Glue, IAM …; not KMS's). */
        managementEvents: z.boolean(),
      }),
    }),
  })
  .superRefine((c, ctx) => {
    const locked = CATEGORIES.filter((k) => c.categories[k].locked);
    if (c.objectLock.retentionDays !== undefined && locked.length > 0) {
      const shortest = Math.min(...locked.map((k) => c.categories[k].expiryDays));
      if (c.objectLock.retentionDays > shortest) {
        ctx.addIssue({
          code: 'custom',
          path: ['objectLock', 'retentionDays'],
          input: c.objectLock.retentionDays,
          message: `must not exceed the shortest locked category's expiryDays (${shortest}); S3 could not expire those objects`,
        });
      }
    }
    for (const persona of PERSONAS) {
      c.personas[persona].write.forEach((cat, i) => {
        if (c.categories[cat].locked) {
          ctx.addIssue({
            code: 'custom',
            path: ['personas', persona, 'write', i],
            input: cat,
            message: 'locked categories are immutable (Object Lock); no persona may write them',
          });
        }
      });
    }
    if (c.categories[c.transform.defaultCategory].locked) {
      ctx.addIssue({
        code: 'custom',
        path: ['transform', 'defaultCategory'],
        input: c.transform.defaultCategory,
        message: 'the default category must not be a locked category',
      });
    }
  });

export type LogLakeConfig = z.infer<typeof configSchema>;
/** A deep-partial override, as found in `cdk.json` context `loglake` or a local config file. */
export type LogLakeConfigOverride = DeepPartial<LogLakeConfig>;
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

const none: CategoryPolicy['transitions'] = [];

/** Defaults of docs/design.md ("Categories", "Personas"): the organisation's log policy. */
export const DEFAULT_CONFIG: LogLakeConfig = {
  name: 'loglake',
  categories: {
    debug: { expiryDays: 14, transitions: none, locked: false, sampleRate: 1 },
    runtime: { expiryDays: 30, transitions: none, locked: false, sampleRate: 1 },
    framework: {
      expiryDays: 90,
      transitions: [{ storageClass: 'STANDARD_IA', afterDays: 30 }],
      locked: false,
      sampleRate: 1,
    },
    errors: {
      expiryDays: 90,
      transitions: [{ storageClass: 'STANDARD_IA', afterDays: 30 }],
      locked: false,
      sampleRate: 1,
    },
    api_access: {
      expiryDays: 180,
      transitions: [
        { storageClass: 'STANDARD_IA', afterDays: 30 },
        { storageClass: 'GLACIER_IR', afterDays: 90 },
      ],
      locked: false,
      sampleRate: 1,
    },
    security: {
      expiryDays: 365,
      transitions: [{ storageClass: 'GLACIER_IR', afterDays: 90 }],
      locked: true,
      sampleRate: 1,
    },
    audit: {
      expiryDays: 2555,
      transitions: [
        { storageClass: 'GLACIER', afterDays: 90 },
        { storageClass: 'DEEP_ARCHIVE', afterDays: 365 },
      ],
      locked: true,
      sampleRate: 1,
    },
  },
  personas: {
    developer: { read: ['debug', 'runtime', 'framework', 'errors', 'api_access'], write: [] },
    ops: {
      read: ['debug', 'runtime', 'framework', 'errors', 'api_access', 'security'],
      write: ['runtime', 'framework'],
    },
    security: { read: [...CATEGORIES], write: [] },
    auditor: { read: ['framework', 'errors', 'security', 'audit'], write: [] },
    // A person's export covers every category; erasure and export are this persona's alone by default.
    'privacy-officer': { read: [...CATEGORIES], write: [] },
  },
  privacy: { personas: ['privacy-officer'] },
  objectLock: { mode: 'GOVERNANCE' },
  firehose: {
    bufferIntervalSeconds: 60,
    bufferSizeMiB: 64,
    processorBufferSizeMiB: 1,
    processorBufferIntervalSeconds: 60,
    // 5 minutes: 12 objects per locked category-hour instead of 60, for ~4 more minutes before a
    // security event is searchable (and alerted on: rules over these categories wait for it).
    streams: { audit: { bufferIntervalSeconds: 300, bufferSizeMiB: 128 } },
  },
  compaction: {
    enabled: true,
    scheduleMinutes: 60,
    closedAfterMinutes: 30,
    lookbackHours: 48,
    targetFileMiB: 128,
  },
  output: { format: 'parquet', compression: 'SNAPPY' },
  errorOutput: { expiryDays: 14 },
  athena: { bytesScannedCutoffPerQuery: 10 * 1024 ** 3, resultsExpiryDays: 7 },
  lambdaLogRetentionDays: 30,
  redaction: { ipv4PrefixLength: 24, ipv6PrefixLength: 48, extraSensitiveKeys: [] },
  transform: {
    maxFutureMinutes: 15,
    rules: [
      { category: 'audit', markers: ['audit', 'audit_event', 'event.audit'] },
      { category: 'audit', loggerPrefixes: ['audit', 'billing.audit', 'breakglass'] },
      { category: 'security', loggerPrefixes: ['security', 'auth', 'iam', 'admin'] },
      { category: 'security', markers: ['security', 'security_event', 'event.security'] },
      { category: 'api_access', http: true },
      { category: 'debug', levels: ['DEBUG'] },
      { category: 'errors', levels: ['ERROR', 'CRITICAL'] },
      {
        category: 'framework',
        loggerPrefixes: ['framework', 'django', 'flask', 'express', 'fastify', 'spring'],
      },
    ],
    defaultCategory: 'runtime',
    timeZones: { services: {}, sources: {} },
    multiline: { startPattern: DEFAULT_START_PATTERN },
    vpcFlowLogFormats: [],
  },
  alerts: DEFAULT_ALERTS,
  sources: DEFAULT_SOURCES,
  accessAudit: { enabled: true, bulkReadRows: 10_000, trail: { enabled: false, managementEvents: true } },
};

/** Objects merge key by key; arrays and scalars in `override` replace. */
export function deepMerge<T>(base: T, override: unknown): T {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    out[k] = k in out ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Merge `override` onto the defaults and validate. Throws {@link ConfigError} listing every problem as
 * `<source>.<path>: <message> (received <value>)`.
 */
export function resolveConfig(override: unknown = {}, source = 'loglake'): LogLakeConfig {
  if (override !== undefined && override !== null && !isPlainObject(override)) {
    throw configError('Invalid loglake configuration', [
      { path: source, message: 'expected an object', received: override },
    ]);
  }
  const merged = deepMerge<unknown>(DEFAULT_CONFIG, override ?? {});
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (result.success) return result.data;
  throw configErrorFromZod('Invalid loglake configuration', result.error.issues, { source, input: merged });
}

/** Context key holding overrides, e.g. `{"context": {"loglake": {"categories": {"debug": {"expiryDays": 7}}}}}`. */
export const CONFIG_CONTEXT_KEY = 'loglake';

/**
 * The config from the value of the `loglake` context key, as the CDK app reads it (`bin/app.ts`) and
 * `loglake config validate` reads `cdk.json`: absent is the defaults, a string (`-c loglake='{"…"}'`) is
 * JSON, an object is merged over the defaults.
 * @param source - how errors name the value. @default `loglake`
 * @throws ConfigError naming every invalid field and the value received.
 */
export function configFromContextValue(raw: unknown, source: string = CONFIG_CONTEXT_KEY): LogLakeConfig {
  const value =
    typeof raw === 'string' ? parseJsonOrThrow(raw, source, 'Invalid loglake configuration') : raw;
  return resolveConfig(value ?? {}, source);
}

/** S3 buffering of a stream: its own settings, or the shared ones. */
export function streamBufferingOf(
  firehose: LogLakeConfig['firehose'],
  stream: 'logs' | 'audit',
): { bufferIntervalSeconds: number; bufferSizeMiB: number } {
  return (
    firehose.streams[stream] ?? {
      bufferIntervalSeconds: firehose.bufferIntervalSeconds,
      bufferSizeMiB: firehose.bufferSizeMiB,
    }
  );
}

/** Categories whose data goes to the Object Lock bucket through the `audit` stream. */
export function lockedCategories(config: Pick<LogLakeConfig, 'categories'>): Category[] {
  return CATEGORIES.filter((c) => config.categories[c].locked);
}

/** Default retention of the audit bucket: configured, or the shortest locked category's expiry. */
export function objectLockRetentionDays(config: Pick<LogLakeConfig, 'categories' | 'objectLock'>): number {
  const locked = lockedCategories(config);
  return (
    config.objectLock.retentionDays ??
    (locked.length > 0 ? Math.min(...locked.map((c) => config.categories[c].expiryDays)) : 1)
  );
}
