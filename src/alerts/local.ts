/**
 * Alerting over the local lake: the same rules, engine and run loop as the alarm Lambda, with DuckDB
 * instead of Athena, a JSON file instead of DynamoDB, and stdout + `alerts.jsonl` + webhooks (the
 * optional `alerts.webhookUrl`, the rules' `chat` and `paging` channels) instead of SNS. Error objects are the files under `<data-dir>/errors/`, by modification time.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { backoffDelay } from '../backoff';
import type { LogLakeConfig } from '../config';
import { lockedCategories } from '../config';
import { DeliveryError } from '../errors';
import { LOCAL_TABLE, LocalLakeReader } from '../query/duckdb';
import { ERROR_PREFIX } from '../schema';
import { type Alert, type AlertWindow, evaluationSlot } from './alert';
import { type AlertRule, type Channel, enabledRules, SECURITY_CHANNEL } from './config';
import type { GroupState } from './decide';
import { LakeSource } from './lake';
import type { ErrorArrival } from './pipeline';
import {
  MemoryStateStore,
  type Notifier,
  type RunReport,
  runEvaluation,
  type StateStore,
  type StoredRuleState,
} from './run';

/** Webhook retries: a receiver that is restarting gets about a second and a half (3 attempts). */
const WEBHOOK_BACKOFF = { baseMs: 500, capMs: 5_000 } as const;

/**
 * Webhook deliveries not accepted yet (a JSON array, replaced atomically), sent again at every
 * evaluation. `alerts.jsonl` holds the alerts themselves whatever their delivery.
 */
export const PENDING_FILE = join('.loglake', 'alerts-pending.json');

/** Where alerts of the local pipeline are appended, one JSON alert per line. */
export const ALERTS_FILE = 'alerts.jsonl';
/** Rule state of the local pipeline, next to its other state. */
export const STATE_FILE = join('.loglake', 'alerts-state.json');

/** Files under `<dataDir>/errors/` modified in `[start, end)`, as error-object arrivals. */
export function scanErrorArrivals(
  dataDir: string,
  window: Pick<AlertWindow, 'start' | 'end'>,
): ErrorArrival[] {
  const root = join(dataDir, ERROR_PREFIX);
  if (!existsSync(root)) return [];
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const out: ErrorArrival[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (!entry.isFile()) continue;
      const mtime = statSync(path).mtimeMs;
      if (mtime < start || mtime >= end) continue;
      const rel = relative(dataDir, path).split(sep).join('/');
      const type = rel.split('/')[1];
      if (!type || rel.split('/').length < 3) continue;
      out.push({ at: new Date(mtime).toISOString(), type, stream: 'local', object: rel });
    }
  };
  walk(root);
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

/** {@link StateStore} in one JSON file, replaced atomically (write, then rename). One process at a time. */
/** Every rule's state in a {@link FileStateStore}'s file, by rule name; none while the file is absent. */
export function readStateFile(file: string): Record<string, StoredRuleState> {
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, StoredRuleState>;
}

export class FileStateStore implements StateStore {
  constructor(private readonly file: string) {}

  private read(): Record<string, StoredRuleState> {
    return readStateFile(this.file);
  }

  async get(rule: string): Promise<StoredRuleState | undefined> {
    return this.read()[rule];
  }

  async put(
    rule: string,
    value: Omit<StoredRuleState, 'version'>,
    expectedVersion: number,
  ): Promise<boolean> {
    const all = this.read();
    if ((all[rule]?.version ?? 0) !== expectedVersion) return false;
    all[rule] = { ...value, version: expectedVersion + 1 };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2));
    renameSync(tmp, this.file);
    return true;
  }
}

export interface LocalNotifierOptions {
  readonly dataDir: string;
  /** Prints one alert for people (the pipeline's console). */
  readonly print?: (alert: Alert) => void;
  /** POST every alert as JSON here. */
  readonly webhookUrl?: string;
  /**
   * The channels rules name (`alerts.channels`): `chat` and `paging` channels are webhooks, posted to
   * from here as on AWS their SNS topics do; `email` and `chatbot` need SNS, so their alerts are only
   * recorded, with a note. @default {}
   */
  readonly channels?: Readonly<Record<string, Channel>>;
  /** Told once per delivery round and endpoint that did not accept alerts (kept, sent again later). */
  readonly onDeliveryError?: (error: DeliveryError) => void;
  /** Told when an alert's channel cannot be delivered locally (it is recorded only). */
  readonly onNote?: (note: string) => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Attempts per webhook POST. @default 3 */
  readonly attempts?: number;
  /** Time allowed for one POST, response included. @default 5,000 ms */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One alert for one webhook; `channel` names the channel (none: `alerts.webhookUrl`). */
interface Delivery {
  readonly url: string;
  readonly channel?: string;
  readonly alert: Alert;
}

/**
 * Records each alert once (by id) in `alerts.jsonl` and prints it, then POSTs it to `alerts.webhookUrl`
 * and to the webhooks of its channels, with a timeout and retries. A delivery that fails is kept in
 * {@link PENDING_FILE} and sent again at every evaluation until the endpoint accepts it; the failure is
 * reported naming the endpoint, and `send` still succeeds, so a dead endpoint neither stops the rules
 * nor keeps an alert out of the local history.
 */
export class LocalNotifier implements Notifier {
  private written: Set<string> | undefined;

  constructor(private readonly options: LocalNotifierOptions) {}

  private file(): string {
    return join(this.options.dataDir, ALERTS_FILE);
  }

  private pendingFile(): string {
    return join(this.options.dataDir, PENDING_FILE);
  }

  private writtenIds(): Set<string> {
    if (!this.written) {
      this.written = new Set();
      if (existsSync(this.file())) {
        for (const line of readFileSync(this.file(), 'utf8').split('\n')) {
          if (!line.trim()) continue;
          try {
            this.written.add((JSON.parse(line) as Alert).id);
          } catch {
            // A torn last line from a crash: that alert is written again, which is the safe side.
          }
        }
      }
    }
    return this.written;
  }

  async send(alerts: readonly Alert[]): Promise<void> {
    const written = this.writtenIds();
    for (const alert of alerts) {
      if (written.has(alert.id)) continue;
      mkdirSync(this.options.dataDir, { recursive: true });
      appendFileSync(this.file(), `${JSON.stringify(alert)}\n`);
      written.add(alert.id);
      this.options.print?.(alert);
      for (const note of this.recordedOnly(alert)) this.options.onNote?.(note);
    }
    // Every alert given is posted, recorded before or not: a send the run loop repeats after a crash
    // delivers what the crash interrupted (at least once; receivers deduplicate by idempotency-key).
    await this.deliver(alerts.flatMap((a) => this.destinations(a)));
  }

  /** Send the deliveries kept from earlier rounds again (every evaluation calls it). */
  async retryPending(): Promise<void> {
    await this.deliver([]);
  }

  private destinations(alert: Alert): Delivery[] {
    const out: Delivery[] = this.options.webhookUrl ? [{ url: this.options.webhookUrl, alert }] : [];
    for (const name of alert.channels ?? []) {
      const channel = this.options.channels?.[name];
      if (channel?.type === 'chat') out.push({ url: channel.webhookUrl, channel: name, alert });
      if (channel?.type === 'paging' && !(channel.firingOnly && alert.status !== 'firing')) {
        out.push({ url: channel.url, channel: name, alert });
      }
    }
    return out;
  }

  private recordedOnly(alert: Alert): string[] {
    return (alert.channels ?? []).flatMap((name) => {
      const type = this.options.channels?.[name]?.type;
      if (type === 'chat' || type === 'paging') return [];
      const why =
        type === undefined
          ? name === SECURITY_CHANNEL
            ? '(the security topic) is an SNS topic on AWS only'
            : 'is not defined in alerts.channels'
          : `(${type}) is delivered by its SNS topic on AWS only`;
      return [
        `alert ${alert.id}: channel ${name} ${why}; locally the alert is recorded in ${ALERTS_FILE} only`,
      ];
    });
  }

  private readPending(): Delivery[] {
    if (!existsSync(this.pendingFile())) return [];
    return JSON.parse(readFileSync(this.pendingFile(), 'utf8')) as Delivery[];
  }

  private writePending(deliveries: readonly Delivery[]): void {
    if (deliveries.length === 0 && !existsSync(this.pendingFile())) return;
    mkdirSync(dirname(this.pendingFile()), { recursive: true });
    const tmp = `${this.pendingFile()}.tmp`;
    writeFileSync(tmp, JSON.stringify(deliveries));
    renameSync(tmp, this.pendingFile());
  }

  /** Kept deliveries first, then `fresh`; an endpoint that fails once is not tried again this round. */
  private async deliver(fresh: readonly Delivery[]): Promise<void> {
    const seen = new Set<string>();
    const queue = [...this.readPending(), ...fresh].filter((d) => {
      const key = `${d.url}\n${d.alert.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (queue.length === 0) return;
    const down = new Map<string, { readonly label: string; readonly error: string }>();
    const left: Delivery[] = [];
    for (const d of queue) {
      if (down.has(d.url)) {
        left.push(d);
        continue;
      }
      try {
        await this.post(d.url, d.alert);
      } catch (e) {
        const label = d.channel ? `channel ${d.channel} (${d.url})` : `webhook ${d.url}`;
        down.set(d.url, { label, error: (e as Error).message });
        left.push(d);
      }
    }
    this.writePending(left);
    for (const [url, { label, error }] of down) {
      const kept = left.filter((d) => d.url === url).length;
      this.options.onDeliveryError?.(
        new DeliveryError(
          `${label} did not accept alerts: ${error}; ${kept} alert(s) for it kept in ${join(this.options.dataDir, PENDING_FILE)} and sent again at the next evaluation (all are in ${ALERTS_FILE})`,
        ),
      );
    }
  }

  private async post(url: string, alert: Alert): Promise<void> {
    const doFetch = this.options.fetch ?? fetch;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const attempts = this.options.attempts ?? 3;
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(backoffDelay(i, WEBHOOK_BACKOFF));
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': alert.id },
          body: JSON.stringify(alert),
          signal: AbortSignal.timeout(timeoutMs),
        });
        // The body is not needed; reading it frees the connection.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        // 4xx other than 429 will not get better by retrying.
        if (res.status < 500 && res.status !== 429) break;
      } catch (e) {
        const error = e as Error & { cause?: { code?: string } };
        last =
          error.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : `${error.message}${error.cause?.code ? ` (${error.cause.code})` : ''}`;
      }
    }
    throw new Error(`${last} after ${attempts} attempt(s)`);
  }
}

export interface LocalEvaluationOptions {
  readonly dataDir: string;
  readonly config: LogLakeConfig;
  /** @default now */
  readonly at?: Date;
  /**
   * The local pipeline's flush interval: windows end this long (plus {@link LOCAL_DELIVERY_MARGIN_MS})
   * before `at`, to the second, instead of `delayMinutes` before its minute. What the pipeline
   * delivered a moment ago is then evaluated. @default undefined (use `delayMinutes`)
   */
  readonly flushIntervalMs?: number;
  /** Minutes between a window's end and `at`, as on AWS; wins over `flushIntervalMs`. @default config.alerts.delayMinutes */
  readonly delayMinutes?: number;
  /** Only these rules (by name). @default every enabled rule */
  readonly rules?: readonly string[];
}

/**
 * Beyond its flush interval, the local pipeline takes up to a second to notice a segment is due (its
 * timer ticks at most every second) and a moment to write it.
 */
export const LOCAL_DELIVERY_MARGIN_MS = 2_000;

/** How a local evaluation places its windows: the pipeline's own latency, or an AWS-like delay. */
function windowTiming(options: Pick<LocalEvaluationOptions, 'delayMinutes' | 'flushIntervalMs' | 'config'>): {
  delayMinutes: number;
  latencyMs?: number;
} {
  const delayMinutes = options.delayMinutes ?? options.config.alerts.delayMinutes;
  if (options.delayMinutes !== undefined || options.flushIntervalMs === undefined) return { delayMinutes };
  return { delayMinutes, latencyMs: options.flushIntervalMs + LOCAL_DELIVERY_MARGIN_MS };
}

function lakeSource(dataDir: string, config: LogLakeConfig, reader: LocalLakeReader): LakeSource {
  return new LakeSource({
    dialect: 'duckdb',
    maxSamples: config.alerts.maxSamples,
    maxGroups: config.alerts.maxGroups,
    lockedCategories: lockedCategories(config),
    tables: () => [{ table: LOCAL_TABLE }],
    run: (built) => reader.query(built),
    arrivals: async (window) => scanErrorArrivals(dataDir, window),
  });
}

function selectRules(config: LogLakeConfig, names: readonly string[] | undefined): AlertRule[] {
  const rules = enabledRules(config.alerts);
  if (!names || names.length === 0) return rules;
  const known = new Set(rules.map((r) => r.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new DeliveryError(
      `unknown or disabled rule(s): ${unknown.join(', ')}; enabled: ${[...known].join(', ')}`,
    );
  }
  return rules.filter((r) => names.includes(r.name));
}

/**
 * What fires if the rules are evaluated now, the minute in progress included (as the demo and the
 * explorer's alerts page show it): windows end at whole minutes, so a minute ahead takes in the minute in
 * progress, and locally there is no Firehose delay to wait for.
 */
export function evaluateLocalLakeNow(
  dataDir: string,
  config: LogLakeConfig,
  now = new Date(),
): Promise<Alert[]> {
  return evaluateLocalLake({ dataDir, config, at: new Date(now.getTime() + 60_000), delayMinutes: 0 });
}

/**
 * What is firing at `at`, from nothing but the lake: each rule is replayed over the schedule slots
 * its `forEvaluations` needs, then every group still breaching at `at` is reported with its current
 * value (as if nobody had been told yet). Stateless: running it twice gives the same answer.
 */
export async function evaluateLocalLake(options: LocalEvaluationOptions): Promise<Alert[]> {
  const { dataDir, config } = options;
  const now = options.at ?? new Date();
  // On an AWS-like delay windows follow the minute slot; on the pipeline's latency, the time itself.
  const timing = windowTiming(options);
  const at = timing.latencyMs === undefined ? evaluationSlot(now) : now;
  const rules = selectRules(config, options.rules);
  // Each rule's query points the view at its own window's partitions (`BuiltQuery.scope`).
  const reader = await LocalLakeReader.open(dataDir, { scope: 'per-query' });
  try {
    const source = lakeSource(dataDir, config, reader);
    const store = new MemoryStateStore();
    const step = config.alerts.scheduleMinutes * 60_000;
    const runOptions = {
      ...timing,
      globalSuppress: config.alerts.suppress,
      searchTarget: `--data-dir ${dataDir}`,
    };
    const discard: Notifier = { send: async () => {} };
    const warmup = Math.max(0, ...rules.map((r) => r.forEvaluations - 1));
    for (let k = warmup; k >= 1; k--) {
      const slot = new Date(at.getTime() - k * step);
      await runEvaluation(
        rules.filter((r) => r.forEvaluations > k),
        slot,
        { source, store, notifier: discard },
        runOptions,
      );
    }
    // Forget who was told during the warm-up, so every group firing at `at` is reported now.
    for (const [rule, stored] of store.entries()) {
      const groups: Record<string, GroupState> = {};
      for (const [k, g] of Object.entries(stored.state.groups)) {
        const { notifiedAt: _told, ...rest } = g;
        groups[k] = rest;
      }
      await store.put(rule, { state: { groups }, outbox: [] }, stored.version);
    }
    const report = await runEvaluation(rules, at, { source, store, notifier: discard }, runOptions);
    return report.alerts.filter((a) => a.status === 'firing');
  } finally {
    reader.close();
  }
}

export interface LocalAlertingOptions extends Omit<LocalEvaluationOptions, 'at'> {
  readonly print?: (alert: Alert) => void;
  /** Reports a failed evaluation (the next tick retries). @default writes to stderr */
  readonly onError?: (error: Error) => void;
  /** @default config.alerts.scheduleMinutes */
  readonly intervalMs?: number;
  /** @default config.alerts.webhookUrl */
  readonly webhookUrl?: string;
  /** Reports a webhook that did not accept alerts (kept and sent again). @default `onError` */
  readonly onDeliveryError?: (error: Error) => void;
  /** Reports a channel whose alerts are only recorded locally (email, chatbot). @default writes to stderr */
  readonly onNote?: (note: string) => void;
  /** Time allowed for one webhook POST. @default 5,000 ms */
  readonly webhookTimeoutMs?: number;
}

/**
 * The local pipeline's alerting: evaluates every `scheduleMinutes` with state kept in
 * `<data-dir>/.loglake/alerts-state.json`, prints alerts, appends them to `alerts.jsonl` and posts them
 * to the webhook. `tick()` evaluates now (the pipeline calls it after a flush, the demo after its traffic).
 */
export function startLocalAlerting(options: LocalAlertingOptions): {
  tick: (at?: Date) => Promise<RunReport>;
  stop: () => void;
} {
  const { dataDir, config } = options;
  const store = new FileStateStore(join(dataDir, STATE_FILE));
  const webhookUrl = options.webhookUrl ?? config.alerts.webhookUrl;
  const onError = options.onError ?? ((e: Error) => process.stderr.write(`alerts: ${e.message}\n`));
  const notifier = new LocalNotifier({
    dataDir,
    ...(options.print ? { print: options.print } : {}),
    ...(webhookUrl ? { webhookUrl } : {}),
    channels: config.alerts.channels,
    onDeliveryError: options.onDeliveryError ?? onError,
    onNote: options.onNote ?? ((note) => process.stderr.write(`alerts: ${note}\n`)),
    ...(options.webhookTimeoutMs !== undefined ? { timeoutMs: options.webhookTimeoutMs } : {}),
  });
  const rules = selectRules(config, options.rules);
  let running: Promise<RunReport> | undefined;
  const tick = async (at: Date = new Date()): Promise<RunReport> => {
    // One evaluation at a time: a slow one makes the next tick wait instead of racing it.
    while (running) await running.catch(() => undefined);
    const run = (async () => {
      await notifier.retryPending();
      const reader = await LocalLakeReader.open(dataDir, { scope: 'per-query' });
      try {
        return await runEvaluation(
          rules,
          at,
          { source: lakeSource(dataDir, config, reader), store, notifier },
          {
            ...windowTiming(options),
            globalSuppress: config.alerts.suppress,
            searchTarget: `--data-dir ${dataDir}`,
          },
        );
      } finally {
        reader.close();
      }
    })();
    running = run;
    try {
      return await run;
    } finally {
      running = undefined;
    }
  };
  const timer = setInterval(
    () => void tick().catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e)))),
    options.intervalMs ?? config.alerts.scheduleMinutes * 60_000,
  );
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
