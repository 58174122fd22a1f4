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
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CONFIG } from '../src/config';
import { type CompactionReport, Compactor, compactionSettings } from '../src/local/compact';
import { pseudonymKey } from '../src/local/datadir';
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
// 2: a bounded user population (USERS), the transform in a worker, compaction hour by hour.
const VERSION = 2;
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
  /** For the compacted variant: the files as delivered, before the compaction. */
  readonly delivered?: { readonly files: number; readonly bytes: number };
  /** For the compacted variant: what the compaction did. */
  readonly compaction?: { readonly seconds: number; readonly partitions: number; readonly rows: number };
  /** A lake cut from a larger one ({@link sampledLake}): its events, and the one request in how many kept. */
  readonly sampledFrom?: { readonly events: number; readonly every: number };
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
/**
 * Distinct users of the day (`user_id`, a subject: the transform pseudonymizes it with the user's own
 * key). A service's users number in the thousands, and each key is created once, then cached: an
 * unbounded population made every event a new subject (a key file created per event), which no real day
 * of traffic looks like and which made the build take hours.
 */
const USERS = 5_000;

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
  private rnd: () => number;
  private readonly lockedLoggers = new Set(['auth.login', 'audit.decisions']);
  readonly needle: { correlationId: string; window: number };
  private readonly perHour: number;
  textEvents = 0;
  correlationEvents = 0;

  constructor(
    private readonly events: number,
    private readonly windows: number,
    private readonly dayStart: number,
    private readonly windowMs: number,
  ) {
    this.rnd = prng(20_261_122 + events);
    this.perHour = HOUR_WINDOWS(windowMs);
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

  /**
   * The windows of one simulated hour; each hour draws from its own seed, so workers can make hours
   * apart and every build of a size is still the same day (call it for an hour's windows in order).
   */
  window(w: number): Window {
    if (w % this.perHour === 0) this.rnd = prng(20_261_122 + this.events + w);
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
        user_id: `user-${Math.floor(this.rnd() * USERS)}`,
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
        user_id: `user-${Math.floor(this.rnd() * USERS)}`,
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
 * renames it when complete, so an interrupted build is never reused. The compacted variant is the
 * delivered lake copied and compacted when that one is cached; otherwise (bulk mode) it is built with
 * each hour compacted once it is delivered, as the running pipeline compacts closed hours, and the
 * delivered files are counted but not kept (a 10M lake's would take hours to copy and compact again).
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

  const deliveredCached = existsSync(manifestPath(join(cache, lakeName({ ...o, state: 'delivered' }))));
  if (o.state === 'compacted' && (deliveredCached || o.mode === 'pipeline')) {
    const delivered = await benchLake({ ...options, state: 'delivered' });
    log(`copying ${delivered.files.toLocaleString('en')} files to compact them`);
    cpSync(delivered.dataDir, partial, { recursive: true });
    const t0 = performance.now();
    const report = await compactLake(partial);
    const seconds = (performance.now() - t0) / 1000;
    const lake: BenchLake = {
      ...delivered,
      ...sizeOfLake(partial),
      delivered: { files: delivered.files, bytes: delivered.bytes },
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
    // fsyncs each new subject's key (crypto-shredding: USERS keys here), in bulk mode too: without it a
    // build waits on the disk most of the time. It changes nothing in the files, so a build runs under
    // eatmydata when it is installed (apt-get install eatmydata), in a child process.
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
  const day: TrafficDay = { events: o.events, windows, spanStart, windowMs };
  const t0 = performance.now();
  const progress = (w: number, events: number, note?: string) => {
    if (note !== undefined || w % Math.max(1, Math.floor(windows / 20)) === 0) {
      log(
        `${new Date(spanStart + w * windowMs).toISOString().slice(11, 16)} UTC, ${events.toLocaleString('en')} events, ${((performance.now() - t0) / 1000).toFixed(0)} s${note ? `; ${note}` : ''}`,
      );
    }
  };
  const built =
    o.mode === 'pipeline'
      ? await buildWithPipeline(partial, day, progress)
      : await buildInBulk(partial, day, progress, o.state === 'compacted');
  const lake: BenchLake = {
    dataDir: dir,
    events: o.events,
    dayStart: new Date(spanStart).toISOString(),
    dayEnd: new Date(spanStart + o.spanHours * 3_600_000).toISOString(),
    correlationId: built.correlationId,
    correlationEvents: built.correlationEvents,
    text: RARE_TEXT,
    textEvents: built.textEvents,
    ...sizeOfLake(partial),
    buildSeconds: (performance.now() - t0) / 1000,
    ...(built.delivered ? { delivered: built.delivered } : {}),
    ...(built.compaction ? { compaction: built.compaction } : {}),
  };
  writeFileSync(manifestPath(partial), JSON.stringify(lake, null, 2));
  renameSync(partial, dir);
  log(`built in ${lake.buildSeconds.toFixed(0)} s: ${lake.files.toLocaleString('en')} files`);
  return lake;
}

/**
 * A smaller day cut from a built compacted lake: one request in `every` (by correlation id, so a
 * request's events stay together; the needle request always), each hour re-compacted by the local
 * compaction from one delivered-named file. The same traffic and layout (one compacted file per category
 * and hour) in minutes, where building the day again costs an hour of delivery files per simulated hour.
 * Cached beside its source as `<source>-sample<every>`.
 */
export async function sampledLake(source: BenchLake, every: number): Promise<BenchLake> {
  const dir = `${source.dataDir}-sample${every}`;
  if (existsSync(manifestPath(dir))) return readManifest(dir);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  try {
    for (const p of listPartitions(source.dataDir)) {
      const into = join(partial, p.rel);
      mkdirSync(into, { recursive: true });
      const files = `[${p.visible.map((n) => duckdbString(join(p.abs, n))).join(', ')}]`;
      await c.run(
        `COPY (SELECT * FROM read_parquet(${files}, hive_partitioning = false)
               WHERE correlation_id = ${duckdbString(source.correlationId)} OR hash(correlation_id) % ${every} = 0)
         TO ${duckdbString(join(into, `${newSegmentId(hourStart(p))}.parquet`))}
         (FORMAT parquet, COMPRESSION ${DEFAULT_CONFIG.output.compression.toLowerCase()})`,
      );
    }
    const glob = duckdbString(join(partial, 'logs', '**', '*.parquet'));
    const count = async (where: string) =>
      Number(
        (
          await c.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${glob}) WHERE ${where}`)
        ).getRowObjectsJS()[0]?.n,
      );
    const events = await count('true');
    const textEvents = await count(`contains(message, ${duckdbString(source.text)})`);
    const correlationEvents = await count(`correlation_id = ${duckdbString(source.correlationId)}`);
    const delivered = sizeOfLake(partial);
    const t1 = performance.now();
    const report = await compactLake(partial);
    if (report.failed.length > 0) throw new Error(`compaction failed: ${JSON.stringify(report.failed)}`);
    const lake: BenchLake = {
      ...source,
      dataDir: dir,
      events,
      correlationEvents,
      textEvents,
      ...sizeOfLake(partial),
      buildSeconds: (t1 - t0) / 1000,
      delivered,
      compaction: {
        seconds: (performance.now() - t1) / 1000,
        partitions: report.compacted.length,
        rows: report.compacted.reduce((s, r) => s + r.rows, 0),
      },
      sampledFrom: { events: source.events, every },
    };
    writeFileSync(manifestPath(partial), JSON.stringify(lake, null, 2));
    renameSync(partial, dir);
    return lake;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

function hourStart(p: { readonly dt: string; readonly hour: string }): number {
  return Date.parse(`${p.dt}T${p.hour}:00:00Z`);
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
  day: TrafficDay,
  progress: (w: number, events: number) => void,
): Promise<Built> {
  const traffic = new Traffic(day.events, day.windows, day.spanStart, day.windowMs);
  const windows = day.windows;
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
  return {
    correlationId: traffic.needle.correlationId,
    correlationEvents: traffic.correlationEvents,
    textEvents: traffic.textEvents,
  };
}

const PROCESSOR_BUFFER_BYTES = DEFAULT_CONFIG.firehose.processorBufferSizeMiB * 1024 ** 2;
const HOUR_WINDOWS = (windowMs: number) => Math.round(3_600_000 / windowMs);

/** The simulated day: how many events, in how many flush windows of what length, from when. */
interface TrafficDay {
  readonly events: number;
  readonly windows: number;
  readonly spanStart: number;
  readonly windowMs: number;
}

/** What a build learnt that the manifest keeps. */
interface Built {
  readonly correlationId: string;
  readonly correlationEvents: number;
  readonly textEvents: number;
  readonly delivered?: { readonly files: number; readonly bytes: number };
  readonly compaction?: BenchLake['compaction'];
}

/** Worker → main: an hour's transformed records are in `path`; then `done` with the traffic's counts. */
type WorkerMessage =
  | {
      readonly type: 'hour';
      readonly hour: number;
      readonly path: string;
      readonly window: number;
      readonly events: number;
      /** The worker's time for the hour's traffic and transform. */
      readonly seconds: number;
    }
  | ({ readonly type: 'done' } & Built);

interface WorkerJob {
  readonly lakeWorker: true;
  readonly dataDir: string;
  readonly staging: string;
  readonly day: TrafficDay;
  /** [0]: hours the main thread has written; the workers stay at most {@link AHEAD} hours ahead. */
  readonly written: SharedArrayBuffer;
  /** This worker makes the hours `index`, `index + of`, … */
  readonly index: number;
  readonly of: number;
}

/** Transform workers: one per core, at most 4. */
const TRANSFORM_WORKERS = Math.min(4, availableParallelism());

/** Hours of transformed records made but not yet written, at most (each ~330 MB at 10M events a day). */
const AHEAD = 3;

/**
 * Fast, and the pipeline's own pieces: the transform (in a worker thread, so it runs while DuckDB
 * writes) takes each window's records in the Lambda-sized invocations the pipeline makes, and one DuckDB
 * COPY per simulated hour writes every delivery file of that hour (one per stream, window and category,
 * named as the spool names its segments) with the writer's column types and codec. With `compact`, the
 * local compaction then runs over the lake, as the pipeline runs it once an hour has closed.
 */
async function buildInBulk(
  dataDir: string,
  day: TrafficDay,
  progress: (w: number, events: number, note?: string) => void,
  compact: boolean,
): Promise<Built> {
  const staging = join(dataDir, '.loglake', 'bench-staging');
  mkdirSync(staging, { recursive: true });
  // The lake's key, made here once: the workers' transforms all read it (two making it would race).
  pseudonymKey(dataDir);
  const written = new SharedArrayBuffer(4);
  const counter = new Int32Array(written);
  // One transform worker per core (each makes every `workers`-th hour), DuckDB in this thread.
  const workers = Array.from({ length: TRANSFORM_WORKERS }, (_, index) => {
    const job: WorkerJob = { lakeWorker: true, dataDir, staging, day, written, index, of: TRANSFORM_WORKERS };
    // tsx's CommonJS hook first: the worker runs this file's TypeScript.
    return new Worker(
      `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(__filename)});`,
      { eval: true, workerData: job },
    );
  });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const compactor = compact ? await Compactor.open({ dataDir, settings: bulkCompactionSettings }) : undefined;
  const struct = `{${[
    ...duckdbRecordColumns(),
    ...['__c', '__d', '__h', '__s'].map((name) => ({ name, type: 'VARCHAR' })),
  ]
    .map((col) => `${duckdbString(col.name)}: ${duckdbString(col.type)}`)
    .join(', ')}}`;
  const removals: Array<Promise<void>> = [];
  const delivered = { files: 0, bytes: 0 };
  const compaction = { seconds: 0, partitions: 0, rows: 0 };
  let events = 0;
  let hours = 0;
  const writeHour = async (m: Extract<WorkerMessage, { type: 'hour' }>) => {
    const t0 = performance.now();
    const target = join(staging, `out-${m.hour}`);
    // Sorted by segment so each file is written whole before the next opens (one file per segment).
    await c.run(
      `COPY (SELECT * FROM read_json(${duckdbString(m.path)}, format = 'newline_delimited', columns = ${struct})
             ORDER BY __c, __d, __h, __s)
       TO ${duckdbString(target)}
       (FORMAT parquet, COMPRESSION ${DEFAULT_CONFIG.output.compression.toLowerCase()}, PARTITION_BY (__c, __d, __h, __s))`,
    );
    rmSync(m.path);
    const published = publishBulk(target, dataDir);
    delivered.files += published.files;
    delivered.bytes += published.bytes;
    // The emptied directories (one per delivery file) go in the background.
    removals.push(removeTree(target));
    events += m.events;
    const t1 = performance.now();
    if (compactor) {
      const report = await compactor.run();
      if (report.failed.length > 0) throw new Error(`compaction failed: ${JSON.stringify(report.failed)}`);
      compaction.seconds += (performance.now() - t1) / 1000;
      compaction.partitions += report.compacted.length;
      compaction.rows += report.compacted.reduce((s, r) => s + r.rows, 0);
    }
    hours++;
    Atomics.store(counter, 0, hours);
    Atomics.notify(counter, 0);
    progress(
      m.window,
      events,
      `hour ${m.hour}: transform ${m.seconds.toFixed(0)} s (worker), write ${((t1 - t0) / 1000).toFixed(0)} s, compaction ${((performance.now() - t1) / 1000).toFixed(0)} s`,
    );
  };
  try {
    const done = await new Promise<Built[]>((resolveDone, reject) => {
      let chain = Promise.resolve();
      const finished: Built[] = [];
      for (const worker of workers) {
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`a transform worker exited ${code}`));
        });
        worker.on('message', (m: WorkerMessage) => {
          if (m.type === 'hour') chain = chain.then(() => writeHour(m)).catch(reject) as Promise<void>;
          else {
            finished.push(m);
            if (finished.length === workers.length) chain.then(() => resolveDone(finished), reject);
          }
        });
      }
    });
    await Promise.all(removals);
    return {
      correlationId: done[0]?.correlationId ?? '',
      correlationEvents: done.reduce((n, d) => n + d.correlationEvents, 0),
      textEvents: done.reduce((n, d) => n + d.textEvents, 0),
      delivered,
      ...(compactor ? { compaction } : {}),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    compactor?.close();
    c.closeSync();
    db.closeSync();
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The compaction as `compactLake` runs it: grace 0, nothing reads the lake while it is built. */
const bulkCompactionSettings = compactionSettings(5_000, {
  graceMs: 0,
  compression: DEFAULT_CONFIG.output.compression,
});

/** `rm -rf` in a child process: Node's own recursive removal costs the main thread ~1 ms per directory. */
function removeTree(dir: string): Promise<void> {
  return new Promise((resolveRm, reject) => {
    spawn('rm', ['-rf', dir], { stdio: 'ignore' }).on('exit', (code) =>
      code === 0 ? resolveRm() : reject(new Error(`rm -rf ${dir} exited ${code}`)),
    );
  });
}

/** The worker's side: the day's traffic through the real transform, an NDJSON file per simulated hour. */
function transformHours(job: WorkerJob): void {
  const { day, staging, dataDir } = job;
  const counter = new Int32Array(job.written);
  const traffic = new Traffic(day.events, day.windows, day.spanStart, day.windowMs);
  const transform = dataDirTransform(DEFAULT_CONFIG, dataDir);
  const perHour = HOUR_WINDOWS(day.windowMs);
  for (let hour = job.index, h0 = hour * perHour; h0 < day.windows; hour += job.of, h0 = hour * perHour) {
    // Wait while AHEAD hours are made and not yet written.
    for (let w = Atomics.load(counter, 0); hour - w >= AHEAD; w = Atomics.load(counter, 0)) {
      Atomics.wait(counter, 0, w);
    }
    const t0 = performance.now();
    const path = join(staging, `hour-${hour}.ndjson`);
    const fd = openSync(path, 'w');
    let out: string[] = [];
    let events = 0;
    const drain = () => {
      if (out.length > 0) writeSync(fd, `${out.join('\n')}\n`);
      out = [];
    };
    const last = Math.min(day.windows, h0 + perHour);
    for (let w = h0; w < last; w++) {
      for (const [stream, lines] of STREAM_LINES(traffic.window(w))) {
        if (lines.length === 0) continue;
        // One segment per stream and window, named as the spool names it (time-sortable, unique).
        const segment = newSegmentId(day.spanStart + w * day.windowMs + (stream === 'audit' ? 1 : 0));
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
          batch.push({ recordId: `${segment}-${i}`, data: e.data, approximateArrivalTimestamp: Date.now() });
          bytes += e.bytes;
        });
        run();
      }
      if (out.length >= 20_000) drain();
    }
    drain();
    closeSync(fd);
    parentPort?.postMessage({
      type: 'hour',
      hour,
      path,
      window: last - 1,
      events,
      seconds: (performance.now() - t0) / 1000,
    } satisfies WorkerMessage);
  }
  parentPort?.postMessage({
    type: 'done',
    correlationId: traffic.needle.correlationId,
    correlationEvents: traffic.correlationEvents,
    textEvents: traffic.textEvents,
  } satisfies WorkerMessage);
}

/** `out/__c=…/__d=…/__h=…/__s=<segment>/data_0.parquet` → `logs/category=…/dt=…/hour=…/<segment>.parquet`. */
function publishBulk(out: string, dataDir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const c of readdirSync(out)) {
    for (const d of readdirSync(join(out, c))) {
      for (const h of readdirSync(join(out, c, d))) {
        const dir = join(dataDir, 'logs', `category=${c.slice(4)}`, `dt=${d.slice(4)}`, `hour=${h.slice(4)}`);
        mkdirSync(dir, { recursive: true });
        for (const s of readdirSync(join(out, c, d, h))) {
          const names = readdirSync(join(out, c, d, h, s));
          if (names.length !== 1)
            throw new Error(`bulk write made ${names.length} files for ${s}; expected 1`);
          const to = join(dir, `${s.slice(4)}.parquet`);
          renameSync(join(out, c, d, h, s, names[0] as string), to);
          files++;
          bytes += statSync(to).size;
        }
      }
    }
  }
  return { files, bytes };
}

function hasEatMyData(): boolean {
  return spawnSync('eatmydata', ['true'], { stdio: 'ignore' }).status === 0;
}

/** Compact every closed hour of a lake at once (grace 0: nothing reads it meanwhile). */
export async function compactLake(dataDir: string): Promise<CompactionReport> {
  const compactor = await Compactor.open({
    dataDir,
    settings: bulkCompactionSettings,
  });
  try {
    return await compactor.run();
  } finally {
    compactor.close();
  }
}

/**
 * When the process is still alive `ms` after its work ended, name what keeps its event loop running
 * (stderr), so a benchmark that does not exit says why instead of hanging silently. The timer is
 * unref'd: it never keeps the process alive itself.
 */
export function reportLingering(what: string, ms = 15_000): void {
  setTimeout(() => {
    const active = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    process.stderr.write(
      `${what}: still running ${ms / 1000} s after its work ended; active handles: ${active.join(', ') || 'none (a native addon or a worker?)'}\n`,
    );
  }, ms).unref();
}

// `tsx bench/lake.ts '{"events":1000000,"state":"compacted"}'` builds (or finds) a lake, prints its manifest.
if (!isMainThread && (workerData as Partial<WorkerJob> | null)?.lakeWorker) {
  transformHours(workerData as WorkerJob);
} else if (require.main === module) {
  const options = JSON.parse(process.argv[2] ?? '{}') as BenchLakeOptions;
  benchLake(options).then(
    (lake) => {
      console.log(JSON.stringify(lake, null, 2));
      reportLingering('bench/lake.ts');
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
