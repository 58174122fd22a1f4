/**
 * Small local lakes written the way the pipeline writes them: producer lines through the spool, the
 * transform and the Parquet writer, one delivery per batch (each delivery = one file per partition).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config';
import { LocalPipeline } from '../../src/local/pipeline';
import { dataDirTransform } from '../../src/local/transform';
import { DATA_PREFIX } from '../../src/schema';

/** One producer event; `id` becomes the correlation id, so every record can be counted. */
export interface LakeEvent {
  readonly id: string;
  readonly at: number;
  readonly service: string;
  readonly level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * Producer events (any JSON objects) delivered as one batch, the way a producer's put reaches the
 * pipeline: the privacy tests' lakes of a few people.
 */
export async function deliverEvents(dataDir: string, events: readonly object[]): Promise<void> {
  const lines = events.map((e) => `${JSON.stringify(e)}\n`);
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    compaction: false,
  });
  try {
    await pipeline.put(
      'logs',
      lines.map((l) => ({ data: Buffer.from(l).toString('base64'), bytes: Buffer.byteLength(l) })),
    );
    await pipeline.flush();
  } finally {
    await pipeline.close();
  }
}

/** Deliver each batch as its own delivery (the pipeline's compaction is off). */
export async function deliverBatches(
  dataDir: string,
  batches: readonly (readonly LakeEvent[])[],
): Promise<void> {
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    compaction: false,
  });
  try {
    for (const batch of batches) {
      if (batch.length === 0) continue;
      await pipeline.put(
        'logs',
        batch.map((e) => {
          const line = `${JSON.stringify({
            timestamp: new Date(e.at).toISOString(),
            level: e.level,
            service: e.service,
            logger: 'app',
            message: `event ${e.id} from ${e.service}`,
            correlation_id: e.id,
          })}\n`;
          return { data: Buffer.from(line).toString('base64'), bytes: Buffer.byteLength(line) };
        }),
      );
      await pipeline.flush();
    }
  } finally {
    await pipeline.close();
  }
}

/** Parquet files under `logs/`, relative to it, sorted. */
export function lakeFiles(dataDir: string): string[] {
  const root = join(dataDir, DATA_PREFIX);
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.name.endsWith('.parquet')) out.push(`${rel}${e.name}`);
    }
  };
  try {
    walk(root, '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return out.sort();
}

/** Start of the UTC hour `hoursAgo` hours before now (closed hours for the default settings when ≥ 1). */
export function hourStart(hoursAgo: number, now = Date.now()): number {
  return Math.floor(now / 3_600_000) * 3_600_000 - hoursAgo * 3_600_000;
}

/** How many times each id appears. */
export function idCounts(ids: readonly (string | null)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) if (id !== null) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}
