/**
 * `loglake health` on the local lake: is the endpoint up, is the spool draining, when did each stream
 * last deliver, how full is the data directory's file system (warn at 80%, critical at 90%), and is the
 * error output growing. Each check is ok, warning or critical; the worst decides the exit status.
 */
import { readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { readIntegrityLog } from '../compliance/integrity';
import { dataDirPaths } from '../local/datadir';
import { isAlive } from '../process';
import { ERROR_PREFIX, STREAMS } from '../schema';

export const HEALTH_STATUSES = ['ok', 'warning', 'critical'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface HealthCheck {
  /** `endpoint`, `spool.logs`, `delivery.audit`, `disk`, `error-output` … */
  readonly name: string;
  readonly status: HealthStatus;
  readonly detail: string;
  /** The measured figures, for scripts. */
  readonly values: Readonly<Record<string, number | string | null>>;
}

export interface HealthReport {
  readonly status: HealthStatus;
  readonly checkedAt: string;
  readonly dataDir: string;
  readonly checks: readonly HealthCheck[];
}

/** Thresholds, with the policy's defaults. */
export interface HealthThresholds {
  /** Disk use (percent of the file system) from which the disk check warns. @default 80 */
  readonly diskWarnPercent: number;
  /** Disk use from which it is critical. @default 90 */
  readonly diskCriticalPercent: number;
  /** Age of the oldest spooled record from which the spool warns (delivery is stuck). @default 5 min */
  readonly spoolWarnMs: number;
  /** Age from which the spool is critical. @default 1 h */
  readonly spoolCriticalMs: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  diskWarnPercent: 80,
  diskCriticalPercent: 90,
  spoolWarnMs: 5 * 60_000,
  spoolCriticalMs: 60 * 60_000,
};

/** Disk use as `df` shows it: used / (used + available to unprivileged users), in percent. */
export interface DiskUsage {
  readonly usedPercent: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
  readonly totalBytes: number;
}

export function diskUsage(path: string): DiskUsage {
  const s = statfsSync(path);
  const used = (s.blocks - s.bfree) * s.bsize;
  const available = s.bavail * s.bsize;
  const usedPercent = used + available === 0 ? 100 : (used / (used + available)) * 100;
  return { usedPercent, usedBytes: used, availableBytes: available, totalBytes: s.blocks * s.bsize };
}

/** The status of a disk use under the thresholds. */
export function diskStatus(
  usedPercent: number,
  t: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): HealthStatus {
  if (usedPercent >= t.diskCriticalPercent) return 'critical';
  if (usedPercent >= t.diskWarnPercent) return 'warning';
  return 'ok';
}

export function worst(statuses: readonly HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>(
    (w, s) => (HEALTH_STATUSES.indexOf(s) > HEALTH_STATUSES.indexOf(w) ? s : w),
    'ok',
  );
}

export interface HealthOptions {
  /** The local endpoint to probe (host:port). @default 127.0.0.1:4573 */
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly thresholds?: HealthThresholds;
  readonly now?: Date;
}

/** Check the local lake under `dataDir`. */
export async function localHealth(dataDir: string, options: HealthOptions): Promise<HealthReport> {
  const t = options.thresholds ?? DEFAULT_HEALTH_THRESHOLDS;
  const now = options.now ?? new Date();
  const checks: HealthCheck[] = [];
  checks.push(await endpointCheck(dataDir, options.endpoint));
  for (const stream of STREAMS) checks.push(spoolCheck(dataDir, stream, t, now));
  checks.push(...deliveryChecks(dataDir, now));
  const disk = diskUsage(dataDir);
  checks.push({
    name: 'disk',
    status: diskStatus(disk.usedPercent, t),
    detail: `${disk.usedPercent.toFixed(1)}% of the file system of ${dataDir} used (warning at ${t.diskWarnPercent}%, critical at ${t.diskCriticalPercent}%)`,
    values: {
      usedPercent: Number(disk.usedPercent.toFixed(2)),
      usedBytes: disk.usedBytes,
      availableBytes: disk.availableBytes,
      totalBytes: disk.totalBytes,
    },
  });
  checks.push(errorOutputCheck(dataDir, now));
  return {
    status: worst(checks.map((c) => c.status)),
    checkedAt: now.toISOString(),
    dataDir,
    checks,
  };
}

/** The pipeline's lock names its process; the endpoint must answer while that process runs. */
async function endpointCheck(
  dataDir: string,
  endpoint: { readonly host: string; readonly port: number },
): Promise<HealthCheck> {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(dataDirPaths(dataDir).lock, 'utf8')) || undefined;
  } catch {
    pid = undefined;
  }
  const running = pid !== undefined && isAlive(pid);
  const reachable = await canConnect(endpoint.host, endpoint.port);
  const where = `${endpoint.host}:${endpoint.port}`;
  const values = { pid: running ? (pid ?? null) : null, endpoint: where, reachable: String(reachable) };
  if (running && reachable) {
    return { name: 'endpoint', status: 'ok', detail: `pipeline (pid ${pid}) answering on ${where}`, values };
  }
  if (running) {
    return {
      name: 'endpoint',
      status: 'critical',
      detail: `the pipeline (pid ${pid}) holds ${dataDir} but nothing answers on ${where}: producers' records are refused`,
      values,
    };
  }
  return {
    name: 'endpoint',
    status: 'warning',
    detail: `no pipeline is running on ${dataDir}${reachable ? ` (something else answers on ${where})` : ''}: start it with \`loglake local --data-dir ${dataDir}\``,
    values,
  };
}

function spoolCheck(dataDir: string, stream: string, t: HealthThresholds, now: Date): HealthCheck {
  const dir = dataDirPaths(dataDir).spool(stream as (typeof STREAMS)[number]);
  let segments = 0;
  let bytes = 0;
  let oldest: number | undefined;
  for (const name of safeReaddir(dir)) {
    if (!name.endsWith('.seg')) continue;
    const st = statSync(join(dir, name));
    segments++;
    bytes += st.size;
    oldest = Math.min(oldest ?? st.mtimeMs, st.mtimeMs);
  }
  const ageMs = oldest === undefined ? 0 : Math.max(0, now.getTime() - oldest);
  const status: HealthStatus =
    ageMs >= t.spoolCriticalMs ? 'critical' : ageMs >= t.spoolWarnMs ? 'warning' : 'ok';
  return {
    name: `spool.${stream}`,
    status,
    detail:
      segments === 0
        ? 'empty'
        : `${segments} segment(s), ${bytes} bytes waiting; oldest ${Math.round(ageMs / 1000)} s old`,
    values: { segments, bytes, oldestAgeSeconds: Math.round(ageMs / 1000) },
  };
}

/** Last delivery per stream, from the integrity log (which every delivery appends to). */
function deliveryChecks(dataDir: string, now: Date): HealthCheck[] {
  const last = new Map<string, string>();
  for (const { entry } of readIntegrityLog(dataDir)) {
    if (entry?.type === 'delivery') last.set(entry.source, entry.at);
  }
  return STREAMS.map((stream) => {
    const at = last.get(stream);
    return {
      name: `delivery.${stream}`,
      status: 'ok' as const,
      detail: at
        ? `last delivery ${at} (${Math.round((now.getTime() - Date.parse(at)) / 1000)} s ago)`
        : 'no delivery recorded yet',
      values: { lastDelivery: at ?? null },
    };
  });
}

/** Error output written in the last hour: records the transform or the conversion refused are arriving. */
function errorOutputCheck(dataDir: string, now: Date): HealthCheck {
  let files = 0;
  let bytes = 0;
  let lastHourFiles = 0;
  let lastHourBytes = 0;
  const walk = (dir: string) => {
    for (const name of safeReaddir(dir)) {
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else {
        files++;
        bytes += st.size;
        if (now.getTime() - st.mtimeMs < 3_600_000) {
          lastHourFiles++;
          lastHourBytes += st.size;
        }
      }
    }
  };
  walk(join(dataDir, ERROR_PREFIX));
  return {
    name: 'error-output',
    status: lastHourFiles > 0 ? 'warning' : 'ok',
    detail:
      lastHourFiles > 0
        ? `${lastHourFiles} error file(s), ${lastHourBytes} bytes in the last hour (${files} in all): see \`loglake alerts evaluate\``
        : `no error output in the last hour (${files} file(s), ${bytes} bytes in all)`,
    values: { files, bytes, lastHourFiles, lastHourBytes },
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function canConnect(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
