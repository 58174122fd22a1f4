/**
 * Benchmark lakes laid out the way the local pipeline lays them out: a simulated day of steady traffic
 * from a dozen services, one delivery per stream per 5-second flush window, so each category-hour holds
 * ~720 small files named after their spool segment (what `loglake local --flush-seconds 5` writes).
 *
 * Two modes, same traffic, same files:
 * - `pipeline`: every window is put into the real `LocalPipeline` (spool, the transform's code, the
 *   Parquet writer) and flushed, with a compressed clock (no waiting). Exact, and slow: ~17,000
 *   deliveries of ~7 DuckDB COPYs each; hours on a shared 2-core machine.
 * - `bulk` (default): every window's records go through the real transform in the same Lambda-sized
 *   invocations, then one DuckDB COPY per simulated hour writes all of that hour's delivery files at once
 *   (PARTITION_BY category, dt, hour and segment, the writer's column types and codec), renamed into the
 *   pipeline's layout. Nothing compares the two modes' files yet (a known gap: compare them before
 *   trusting a change to either).
 *
 * Lakes are cached under `.cache/bench/lakes/` (gitignored): the first build of 1M events takes tens of
 * minutes on 2 cores, later runs reuse it. A `compacted` variant is a copy compacted by the local
 * compaction (every hour is closed: the simulated day is yesterday, UTC).
 *
 * Importable: `await benchLake({ events: 1_000_000 })` returns the directory and what to look for in it.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CONFIG } from '../src/config';
import { type CompactionReport, Compactor, compactionSettings } from '../src/local/compact';
import { listPartitions } from '../src/local/lake-files';
import { LocalPipeline } from '../src/local/pipeline';
import { newSegmentId } from '../src/local/spool';
import { dataDirTransform } from '../src/local/transform';
import { duckdbRecordColumns } from '../src/query/columns';
import { duckdbString } from '../src/query/duckdb';
import { benchEnv } from './env';

const ROOT = resolve(__dirname, '..');
/** Where built lakes are kept between runs. */
export const LAKE_CACHE = join(ROOT, '.cache', 'bench', 'lakes');
const VERSION = 1;
const DAY = 86_400_000;

export interface BenchLakeOptions {
  /** Events over the simulated span. @default 1,000,000 */
  readonly events?: number;
  /** Simulated span, ending at UTC midnight today. @default 24 hours */
  readonly spanHours?: number;
  /** How the files are written (see the module comment). @default 'bulk' */
  readonly mode?: 'bulk' | 'pipeline';
  /** Cache directory. @default `.cache/bench/lakes` */
  readonly cacheDir?: string;
  /** The pipeline's flush interval (one delivery per stream per window). @default 5 s (`loglake local`) */
  readonly flushSeconds?: number;
  /** `delivered`: as the pipeline wrote it; `compacted`: every hour compacted. @default 'delivered' */
  readonly state?: 'delivered' | 'compacted';
  /** Progress lines (stderr). @default true */
  readonly verbose?: boolean;
}

/** A built lake and what the benchmarks look for in it. */
export interface BenchLake {
  readonly dataDir: string;
  readonly events: number;
  /** Start of the simulated day (UTC midnight). */
  readonly dayStart: string;
  readonly dayEnd: string;
  /** A correlation id shared by the events of one request (4 events, 3 services). */
  readonly correlationId: string;
  readonly correlationEvents: number;
  /** A phrase of a rare message, and how many events hold it. */
  readonly text: string;
  readonly textEvents: number;
  readonly files: number;
  readonly bytes: number;
  readonly buildSeconds: number;
  /** For the compacted variant: what the compaction did. */
  readonly compaction?: { readonly seconds: number; readonly partitions: number; readonly rows: number };
}

/** mulberry32: deterministic traffic, so every build of a size is the same day. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = [
  'checkout-api',
  'orders',
  'payments',
  'inventory',
  'search',
  'recommendations',
  'auth',
  'gateway',
  'billing',
  'notifications',
  'worker',
  'scheduler',
];
const PATHS = [
  '/api/v1/cart',
  '/api/v1/orders',
  '/api/v1/products',
  '/api/v1/checkout',
  '/health',
  '/api/v1/search',
];
const RARE_TEXT = 'ledger reconciliation drift detected';

/** One window's producer lines, per stream. */
interface Window {
  readonly logs: string[];
  readonly audit: string[];
}

/**
 * The traffic of the day, one flush window at a time. Requests carry a correlation id over 1-4 events;
 * the category mix (by logger, level and HTTP fields, as the transform decides) is about 35% api_access,
 * 25% runtime, 10% debug, 10% framework, 6% errors, 9% security and 5% audit.
 */
class Traffic {
  private readonly rnd: () => number;
  private readonly lockedLoggers = new Set(['auth.login', 'audit.decisions']);
  readonly needle: { correlationId: string; window: number };
  textEvents = 0;
  correlationEvents = 0;

  constructor(
    private readonly events: number,
    private readonly windows: number,
    private readonly dayStart: number,
    private readonly windowMs: number,
  ) {
    this.rnd = prng(20_261_122 + events);
    this.needle = { correlationId: 'c0ffee00deadbeef0123456789abcdef', window: Math.floor(windows * 0.61) };
  }

  private hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.rnd() * 16).toString(16);
    return s;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)] as T;
  }

  window(w: number): Window {
    const out: Window = { logs: [], audit: [] };
    const start = this.dayStart + w * this.windowMs;
    // Spread the total evenly with the remainder on the first windows (steady traffic).
    const n = Math.floor(this.events / this.windows) + (w < this.events % this.windows ? 1 : 0);
    let made = 0;
    if (w === this.needle.window) {
      const at = start + 1_000;
      for (const [i, service] of ['gateway', 'checkout-api', 'payments', 'checkout-api'].entries()) {
        out.logs.push(
          JSON.stringify({
            timestamp: new Date(at + i * 37).toISOString(),
            level: i === 2 ? 'ERROR' : 'INFO',
            service,
            logger: `app.${service}`,
            message: i === 2 ? 'payment capture failed: gateway timeout' : `step ${i} of checkout`,
            correlation_id: this.needle.correlationId,
          }),
        );
        this.correlationEvents++;
      }
      made += 4;
    }
    while (made < n) {
      const cid = this.hex(32);
      const steps = Math.min(n - made, 1 + Math.floor(this.rnd() * 4));
      const t0 = start + Math.floor(this.rnd() * (this.windowMs - 500));
      for (let s = 0; s < steps; s++) {
        const line = this.event(cid, t0 + s * 23);
        (this.lockedLoggers.has(String(line.logger)) ? out.audit : out.logs).push(JSON.stringify(line));
      }
      made += steps;
    }
    return out;
  }

  private event(cid: string, at: number): Record<string, unknown> {
    const service = this.pick(SERVICES);
    const timestamp = new Date(at).toISOString();
    const r = this.rnd();
    const base = { timestamp, service, correlation_id: cid };
    if (r < 0.35) {
      const status = this.rnd() < 0.04 ? 500 : this.pick([200, 200, 200, 201, 204, 404]);
      return {
        ...base,
        level: status >= 500 ? 'ERROR' : 'INFO',
        logger: 'http.access',
        message: `${this.pick(['GET', 'POST'])} request completed`,
        http: { method: this.pick(['GET', 'POST', 'PUT']), path: this.pick(PATHS), status_code: status },
        duration_ms: Math.round(this.rnd() * 4000) / 10,
        user_id: `user-${Math.floor(this.rnd() * 50_000)}`,
      };
    }
    if (r < 0.6) {
      const rare = this.rnd() < 0.0005;
      if (rare) this.textEvents++;
      return {
        ...base,
        level: this.pick(['INFO', 'INFO', 'INFO', 'WARN']),
        logger: `app.${service}`,
        message: rare
          ? `${RARE_TEXT} on account ${Math.floor(this.rnd() * 1e6)}`
          : this.pick([
              `order ${Math.floor(this.rnd() * 1e7)} moved to state ${this.pick(['paid', 'packed', 'shipped'])}`,
              `cache ${this.pick(['hit', 'miss'])} for key sku:${Math.floor(this.rnd() * 1e5)}`,
              `processed batch of ${Math.floor(this.rnd() * 500)} items in ${Math.floor(this.rnd() * 900)} ms`,
              `queue depth ${Math.floor(this.rnd() * 100)}, workers ${1 + Math.floor(this.rnd() * 16)}`,
              'retrying upstream call after timeout',
            ]),
        attributes: {
          region: this.pick(['eu-west-1', 'us-east-1']),
          pod: `pod-${Math.floor(this.rnd() * 40)}`,
        },
      };
    }
    if (r < 0.7) {
      return {
        ...base,
        level: 'DEBUG',
        logger: `app.${service}.debug`,
        message: `scored ${Math.floor(this.rnd() * 50)} candidates in ${Math.floor(this.rnd() * 30)} ms`,
      };
    }
    if (r < 0.8) {
      return {
        ...base,
        level: this.pick(['INFO', 'WARN']),
        logger: this.pick(['express.router', 'spring.web', 'django.request']),
        message: `route ${this.pick(PATHS)} matched in ${Math.floor(this.rnd() * 5)} ms`,
      };
    }
    if (r < 0.86) {
      const type = this.pick(['TimeoutError', 'ConnectionResetError', 'CardDeclinedError', 'KeyError']);
      return {
        ...base,
        level: this.rnd() < 0.1 ? 'CRITICAL' : 'ERROR',
        logger: `app.${service}`,
        message: `${type}: operation failed after ${1 + Math.floor(this.rnd() * 5)} attempts`,
        error: {
          type,
          stack: `${type}: upstream closed\n    at call (/srv/${service}/client.js:${Math.floor(this.rnd() * 400)}:11)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`,
        },
      };
    }
    if (r < 0.95) {
      return {
        ...base,
        level: this.rnd() < 0.02 ? 'WARN' : 'INFO',
        logger: 'auth.login',
        message: this.pick([
          'login succeeded',
          'token refreshed',
          'login failed: bad password',
          'mfa challenge sent',
        ]),
        user_id: `user-${Math.floor(this.rnd() * 50_000)}`,
      };
    }
    return {
      ...base,
      level: 'INFO',
      logger: 'audit.decisions',
      message: `policy ${this.pick(['allow', 'deny'])} for action ${this.pick(['refund', 'export', 'role.grant'])}`,
      audit: true,
    };
  }
}

function lakeName(o: Required<Omit<BenchLakeOptions, 'verbose' | 'cacheDir'>>): string {
  return `span${o.spanHours}h-${o.events}-f${o.flushSeconds}-${o.mode}-${o.state}-v${VERSION}`;
}

function manifestPath(dir: string): string {
  return join(dir, 'bench-lake.json');
}

function sizeOfLake(dataDir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const p of listPartitions(dataDir)) {
    for (const n of p.visible) {
      files++;
      bytes += statSync(join(p.abs, n)).size;
    }
  }
  return { files, bytes };
}

/**
 * The lake for these options, from the cache or built now. Building writes to `<name>.partial` and
 * renames it when complete, so an interrupted build is never reused.
 */
export async function benchLake(options: BenchLakeOptions = {}): Promise<BenchLake> {
  const o = {
    events: options.events ?? 1_000_000,
    spanHours: options.spanHours ?? 24,
    flushSeconds: options.flushSeconds ?? 5,
    mode: options.mode ?? 'bulk',
    state: options.state ?? 'delivered',
  } as const;
  const verbose = options.verbose ?? true;
  const log = (m: string) => {
    if (verbose) process.stderr.write(`bench lake: ${m}\n`);
  };
  const cache = options.cacheDir ?? LAKE_CACHE;
  const dir = join(cache, lakeName(o));
  if (existsSync(manifestPath(dir))) return readManifest(dir);
  mkdirSync(cache, { recursive: true });
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });

  if (o.state === 'compacted') {
    const delivered = await benchLake({ ...options, state: 'delivered' });
    log(`copying ${delivered.files.toLocaleString('en')} files to compact them`);
    cpSync(delivered.dataDir, partial, { recursive: true });
    const t0 = performance.now();
    const report = await compactLake(partial);
    const seconds = (performance.now() - t0) / 1000;
    const lake: BenchLake = {
      ...delivered,
      ...sizeOfLake(partial),
      compaction: {
        seconds,
        partitions: report.compacted.length,
        rows: report.compacted.reduce((s, r) => s + r.rows, 0),
      },
    };
    writeFileSync(manifestPath(partial), JSON.stringify(lake, null, 2));
    renameSync(partial, dir);
    log(`compacted in ${seconds.toFixed(1)} s: ${lake.files.toLocaleString('en')} files`);
    return { ...lake, dataDir: dir };
  }

  if (!benchEnv.preload.includes('eatmydata') && hasEatMyData()) {
    // The pipeline fsyncs the spool, every file, the manifest and their directories, and the transform
    // fsyncs each new subject's key (crypto-shredding: ~50,000 users here), in bulk mode too: that is
    // nearly all of a build's time (~170 events/s without it). It changes nothing in the files, so a
    // build runs under eatmydata when it is installed (apt-get install eatmydata), in a child process.
    log('building under eatmydata (fsync is a no-op while the lake is generated; the files are the same)');
    const r = spawnSync(
      'eatmydata',
      [process.execPath, '--import', 'tsx', __filename, JSON.stringify({ ...o, cacheDir: cache })],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status !== 0 || !existsSync(manifestPath(dir))) throw new Error(`building ${dir} failed`);
    return readManifest(dir);
  }

  const windowMs = o.flushSeconds * 1000;
  const windows = Math.floor((o.spanHours * 3_600_000) / windowMs);
  // Ends at UTC midnight today: every hour of it is closed, and it is within the transform's 7-day window.
  const spanStart = Math.floor(Date.now() / DAY) * DAY - o.spanHours * 3_600_000;
  const traffic = new Traffic(o.events, windows, spanStart, windowMs);
  const t0 = performance.now();
  const progress = (w: number, events: number) => {
    if (w % Math.max(1, Math.floor(windows / 20)) === 0) {
      log(
        `${new Date(spanStart + w * windowMs).toISOString().slice(11, 16)} UTC, ${events.toLocaleString('en')} events, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
    }
  };
  if (o.mode === 'pipeline') await buildWithPipeline(partial, traffic, windows, progress);
  else await buildInBulk(partial, traffic, windows, windowMs, spanStart, progress);
  const lake: BenchLake = {
    dataDir: dir,
    events: o.events,
    dayStart: new Date(spanStart).toISOString(),
    dayEnd: new Date(spanStart + o.spanHours * 3_600_000).toISOString(),
    correlationId: traffic.needle.correlationId,
    correlationEvents: traffic.correlationEvents,
    text: RARE_TEXT,
    textEvents: traffic.textEvents,
    ...sizeOfLake(partial),
    buildSeconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(manifestPath(partial), JSON.stringify(lake, null, 2));
  renameSync(partial, dir);
  log(`built in ${lake.buildSeconds.toFixed(0)} s: ${lake.files.toLocaleString('en')} files`);
  return lake;
}

function readManifest(dir: string): BenchLake {
  return { ...(JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as BenchLake), dataDir: dir };
}

/** Producer lines as the pipeline's `put` takes them. */
function encode(line: string): { data: string; bytes: number } {
  const data = `${line}\n`;
  return { data: Buffer.from(data).toString('base64'), bytes: Buffer.byteLength(data) };
}

const STREAM_LINES = (win: Window) =>
  [
    ['logs', win.logs],
    ['audit', win.audit],
  ] as const;

/** Exact: the real pipeline, one put and one flush per window. */
async function buildWithPipeline(
  dataDir: string,
  traffic: Traffic,
  windows: number,
  progress: (w: number, events: number) => void,
): Promise<void> {
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    // Flushed by hand once per simulated window; the size trigger (1 MiB) still applies as it would.
    flushIntervalMs: 24 * 3_600_000,
    bufferBytes: PROCESSOR_BUFFER_BYTES,
    compression: DEFAULT_CONFIG.output.compression,
    compaction: false,
  });
  try {
    for (let w = 0; w < windows; w++) {
      const puts: Promise<unknown>[] = [];
      for (const [stream, lines] of STREAM_LINES(traffic.window(w))) {
        // PutRecordBatch allows 500 records per call.
        for (let i = 0; i < lines.length; i += 500) {
          puts.push(pipeline.put(stream, lines.slice(i, i + 500).map(encode)));
        }
      }
      await Promise.all(puts);
      await pipeline.flush();
      progress(w, pipeline.stats.events);
    }
  } finally {
    await pipeline.close();
  }
}

const PROCESSOR_BUFFER_BYTES = DEFAULT_CONFIG.firehose.processorBufferSizeMiB * 1024 ** 2;
const HOUR_WINDOWS = (windowMs: number) => Math.round(3_600_000 / windowMs);

/**
 * Fast: each window's records through the real transform (Lambda-sized invocations, as the pipeline
 * runs them), then one COPY per simulated hour writing every delivery file of that hour at once.
 */
async function buildInBulk(
  dataDir: string,
  traffic: Traffic,
  windows: number,
  windowMs: number,
  spanStart: number,
  progress: (w: number, events: number) => void,
): Promise<void> {
  const transform = dataDirTransform(DEFAULT_CONFIG, dataDir);
  const staging = join(dataDir, '.loglake', 'bench-staging');
  mkdirSync(staging, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const struct = `{${[
    ...duckdbRecordColumns(),
    ...['__c', '__d', '__h', '__s'].map((name) => ({ name, type: 'VARCHAR' })),
  ]
    .map((col) => `${duckdbString(col.name)}: ${duckdbString(col.type)}`)
    .join(', ')}}`;
  let events = 0;
  try {
    const perHour = HOUR_WINDOWS(windowMs);
    for (let h0 = 0; h0 < windows; h0 += perHour) {
      const ndjson = join(staging, 'hour.ndjson');
      const out: string[] = [];
      for (let w = h0; w < Math.min(windows, h0 + perHour); w++) {
        for (const [stream, lines] of STREAM_LINES(traffic.window(w))) {
          if (lines.length === 0) continue;
          // One segment per stream and window, named as the spool names it (time-sortable, unique).
          const segment = newSegmentId(spanStart + w * windowMs + (stream === 'audit' ? 1 : 0));
          let batch: Array<{ recordId: string; data: string; approximateArrivalTimestamp: number }> = [];
          let bytes = 0;
          const run = () => {
            for (const r of transform(batch, stream)) {
              if (r.result !== 'Ok' || !r.metadata) throw new Error(`bench traffic: ${r.result} record`);
              const k = r.metadata.partitionKeys;
              const tail = `,"__c":${JSON.stringify(k.category)},"__d":"${k.dt}","__h":"${k.hour}","__s":"${segment}"}`;
              for (const line of Buffer.from(r.data, 'base64').toString('utf8').split('\n')) {
                if (line.trim() === '') continue;
                out.push(`${line.slice(0, line.lastIndexOf('}'))}${tail}`);
                events++;
              }
            }
            batch = [];
            bytes = 0;
          };
          lines.forEach((line, i) => {
            const e = encode(line);
            if (bytes + e.bytes > PROCESSOR_BUFFER_BYTES && batch.length > 0) run();
            batch.push({
              recordId: `${segment}-${i}`,
              data: e.data,
              approximateArrivalTimestamp: Date.now(),
            });
            bytes += e.bytes;
          });
          run();
        }
        progress(w, events);
      }
      writeFileSync(ndjson, `${out.join('\n')}\n`);
      const target = join(staging, 'out');
      rmSync(target, { recursive: true, force: true });
      // Sorted by segment so each file is written whole before the next opens (one file per segment).
      await c.run(
        `COPY (SELECT * FROM read_json(${duckdbString(ndjson)}, format = 'newline_delimited', columns = ${struct})
               ORDER BY __c, __d, __h, __s)
         TO ${duckdbString(target)}
         (FORMAT parquet, COMPRESSION ${DEFAULT_CONFIG.output.compression.toLowerCase()}, PARTITION_BY (__c, __d, __h, __s))`,
      );
      publishBulk(target, dataDir);
    }
  } finally {
    c.closeSync();
    db.closeSync();
    rmSync(staging, { recursive: true, force: true });
  }
}

/** `out/__c=…/__d=…/__h=…/__s=<segment>/data_0.parquet` → `logs/category=…/dt=…/hour=…/<segment>.parquet`. */
function publishBulk(out: string, dataDir: string): void {
  for (const c of readdirSync(out)) {
    for (const d of readdirSync(join(out, c))) {
      for (const h of readdirSync(join(out, c, d))) {
        const dir = join(dataDir, 'logs', `category=${c.slice(4)}`, `dt=${d.slice(4)}`, `hour=${h.slice(4)}`);
        mkdirSync(dir, { recursive: true });
        for (const s of readdirSync(join(out, c, d, h))) {
          const files = readdirSync(join(out, c, d, h, s));
          if (files.length !== 1)
            throw new Error(`bulk write made ${files.length} files for ${s}; expected 1`);
          renameSync(join(out, c, d, h, s, files[0] as string), join(dir, `${s.slice(4)}.parquet`));
        }
      }
    }
  }
}

function hasEatMyData(): boolean {
  return spawnSync('eatmydata', ['true'], { stdio: 'ignore' }).status === 0;
}

/** Compact every closed hour of a lake at once (grace 0: nothing reads it meanwhile). */
export async function compactLake(dataDir: string): Promise<CompactionReport> {
  const compactor = await Compactor.open({
    dataDir,
    settings: compactionSettings(5_000, { graceMs: 0, compression: DEFAULT_CONFIG.output.compression }),
  });
  try {
    return await compactor.run();
  } finally {
    compactor.close();
  }
}

// `tsx bench/lake.ts '{"events":1000000,"state":"compacted"}'` builds (or finds) a lake, prints its manifest.
if (require.main === module) {
  const options = JSON.parse(process.argv[2] ?? '{}') as BenchLakeOptions;
  benchLake(options).then(
    (lake) => console.log(JSON.stringify(lake, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
