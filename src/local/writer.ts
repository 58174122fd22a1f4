/**
 * Delivers transformed records to the local lake, like Firehose delivers to S3: Ok records become
 * Parquet files under `logs/category=<c>/dt=<d>/hour=<h>/`, ProcessingFailed records land as raw bytes
 * under `errors/processing-failed/dt=<d>/`, records DuckDB cannot convert under
 * `errors/format-conversion-failed/dt=<d>/` (Firehose's error document format, `rawData` base64).
 *
 * Files are written in a staging directory and renamed into place, so a reader never sees half a file.
 * Every file of a segment is named after the segment (`<segmentId>.parquet`); a manifest listing them is
 * made durable before the first rename, so a replay after a crash first removes what the interrupted
 * delivery left, then delivers again: no duplicates, even if the replay partitions differently.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { hashFile, type IntegrityObject } from '../compliance/integrity';
import { duckdbRecordColumns } from '../query/columns';
import { duckdbGlobLiteral, duckdbString } from '../query/duckdb';
import { ERROR_PREFIX, type PartitionKeys, partitionPrefix } from '../schema';
import { utcDate } from '../time';
import { fsyncDir, fsyncFile, type Segment } from './spool';

/** The part of a transform result the writer needs (`TransformOutputRecord` of `src/transform`). */
export interface TransformedRecord {
  readonly recordId: string;
  readonly result: 'Ok' | 'Dropped' | 'ProcessingFailed';
  /** base64; for Ok, NDJSON of normalized records. */
  readonly data: string;
  readonly metadata?: { readonly partitionKeys: PartitionKeys };
}

/** What one delivery did. */
export interface DeliveryReport {
  /** Normalized events written to Parquet. */
  readonly events: number;
  readonly ok: number;
  readonly dropped: number;
  readonly processingFailed: number;
  readonly conversionFailed: number;
  /** Files written, relative to the data directory. */
  readonly files: readonly string[];
  /** The same files with their SHA-256, size and records, for the integrity log. */
  readonly objects: readonly IntegrityObject[];
}

const RECORD_STRUCT = duckdbRecordColumns();

export type Compression = 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED';

/** Firehose's error output document, one JSON line per failed record. */
interface ErrorDocument {
  attemptsMade: number;
  arrivalTimestamp: number;
  errorCode: string;
  errorMessage: string;
  attemptEndingTimestamp: number;
  rawData: string;
}

export class LakeWriter {
  private constructor(
    private readonly dataDir: string,
    private readonly stagingRoot: string,
    private readonly compression: Compression,
    /** Closed with the writer; undefined when the instance is borrowed ({@link LakeWriter.onInstance}). */
    private readonly instance: DuckDBInstance | undefined,
    private readonly connection: DuckDBConnection,
  ) {}

  /**
   * @param stagingRoot - scratch space on the same file system as `dataDir` (renames must be atomic).
   * @param compression - Parquet codec. @default 'SNAPPY'
   */
  static async open(
    dataDir: string,
    stagingRoot: string,
    compression: Compression = 'SNAPPY',
  ): Promise<LakeWriter> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    // DuckDB parallelism buys little for the small batches of one buffer and competes with the producer.
    await connection.run('SET threads = 2');
    return new LakeWriter(dataDir, stagingRoot, compression, instance, connection);
  }

  /**
   * A writer on a connection of an instance that is already open (a query's own engine, which writes
   * its access event this way): no second DuckDB instance, and the instance's settings are left as they
   * are. Closing the writer closes only its connection.
   * @param compression - Parquet codec. @default 'SNAPPY'
   */
  static async onInstance(
    instance: DuckDBInstance,
    dataDir: string,
    stagingRoot: string,
    compression: Compression = 'SNAPPY',
  ): Promise<LakeWriter> {
    return new LakeWriter(dataDir, stagingRoot, compression, undefined, await instance.connect());
  }

  /**
   * Deliver one segment's transform results. `raw` gives each input record's arrival time and original
   * data by record id (for the error output). Resolves when every file is durably in place.
   * @param manifestPath - where to keep the list of files this delivery writes (next to the segment), for
   *   a replay after a crash. @default none: records no replay will deliver again (an access event, written
   *   while its query waits), so no manifest is made durable; a failure here still removes what this call
   *   renamed into place.
   */
  async deliver(
    segment: Pick<Segment, 'id' | 'records'>,
    results: readonly TransformedRecord[],
    manifestPath?: string,
  ): Promise<DeliveryReport> {
    const raw = new Map(segment.records.map((r) => [r.id, r]));
    const staging = join(this.stagingRoot, segment.id);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const now = Date.now();
    const groups = new Map<
      string,
      { keys: PartitionKeys; records: Array<{ id: string; lines: string[] }> }
    >();
    const errors = new Map<string, ErrorDocument[]>();
    const addError = (type: string, id: string, code: string, message: string, fallbackData: string) => {
      const r = raw.get(id);
      const arrival = r?.arrival ?? now;
      const key = `${type}/dt=${utcDate(new Date(arrival))}`;
      const list = errors.get(key) ?? [];
      list.push({
        attemptsMade: 1,
        arrivalTimestamp: arrival,
        errorCode: code,
        errorMessage: message,
        attemptEndingTimestamp: now,
        rawData: r?.data ?? fallbackData,
      });
      errors.set(key, list);
    };
    let ok = 0;
    let dropped = 0;
    let processingFailed = 0;
    for (const rec of results) {
      if (rec.result === 'Dropped') {
        dropped++;
      } else if (rec.result === 'Ok' && rec.metadata?.partitionKeys) {
        ok++;
        const keys = rec.metadata.partitionKeys;
        const prefix = partitionPrefix(keys);
        const group = groups.get(prefix) ?? { keys, records: [] };
        const lines = Buffer.from(rec.data, 'base64')
          .toString('utf8')
          .split('\n')
          .filter((line) => line.trim() !== '');
        group.records.push({ id: rec.recordId, lines });
        groups.set(prefix, group);
      } else {
        processingFailed++;
        const message =
          rec.result === 'Ok'
            ? 'Ok result without metadata.partitionKeys'
            : 'The record was returned with ProcessingFailed status by the transform';
        addError('processing-failed', rec.recordId, 'Lambda.ProcessingFailedStatus', message, rec.data);
      }
    }

    // Stage every output file, then publish them all.
    const publish: Array<{ from: string; to: string; rows: number }> = [];
    let events = 0;
    let conversionFailed = 0;
    let n = 0;
    for (const [prefix, group] of groups) {
      const output = join(staging, `${n}.parquet`);
      const input = join(staging, `${n}.ndjson`);
      n++;
      writeFileSync(input, `${group.records.map((r) => r.lines.join('\n')).join('\n')}\n`);
      let converted = group.records;
      try {
        await this.copyToParquet(input, output);
      } catch {
        // One bad record must not cost its neighbours: find the records DuckDB cannot read, keep the rest.
        converted = [];
        for (const r of group.records) {
          const probe = join(staging, `${n++}.ndjson`);
          writeFileSync(probe, `${r.lines.join('\n')}\n`);
          try {
            await this.readJson(probe);
            converted.push(r);
          } catch (error) {
            conversionFailed++;
            const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
            addError('format-conversion-failed', r.id, 'DataFormatConversion.Failed', message, '');
          }
        }
        if (converted.length > 0) {
          writeFileSync(input, `${converted.map((r) => r.lines.join('\n')).join('\n')}\n`);
          await this.copyToParquet(input, output);
        }
      }
      if (converted.length > 0) {
        const rows = converted.reduce((sum, r) => sum + r.lines.length, 0);
        publish.push({ from: output, to: join(prefix, `${segment.id}.parquet`), rows });
        events += rows;
      }
    }
    for (const [key, docs] of errors) {
      const file = join(staging, `${n++}.ndjson`);
      writeFileSync(file, `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
      publish.push({ from: file, to: join(ERROR_PREFIX, key, `${segment.id}.ndjson`), rows: docs.length });
    }
    for (const p of publish) fsyncFile(p.from);
    // Hashed as staged: the content the integrity log vouches for is exactly what is renamed into place.
    const objects = publish.map((p) => ({ key: p.to, ...hashFile(p.from), rows: p.rows }));

    // The manifest is the point of no return: from here, a replay must clean up before redelivering.
    if (manifestPath !== undefined) {
      writeDurably(manifestPath, JSON.stringify({ segment: segment.id, files: publish.map((p) => p.to) }));
    }
    const dirs = new Set<string>();
    const renamed: string[] = [];
    try {
      for (const p of publish) {
        const target = join(this.dataDir, p.to);
        mkdirSync(dirname(target), { recursive: true });
        renameSync(p.from, target);
        renamed.push(p.to);
        dirs.add(dirname(target));
      }
      for (const d of dirs) fsyncDir(d);
    } catch (error) {
      if (manifestPath === undefined) this.removeDelivered(renamed);
      throw error;
    }
    rmSync(staging, { recursive: true, force: true });
    return {
      events,
      ok,
      dropped,
      processingFailed,
      conversionFailed,
      files: publish.map((p) => p.to),
      objects,
    };
  }

  /** Remove the files an interrupted delivery of a segment may have published (see the manifest). */
  undoPartialDelivery(manifestPath: string): string[] {
    if (!existsSync(manifestPath)) return [];
    let files: string[] = [];
    try {
      files = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: string[] }).files;
    } catch {
      // A manifest torn by the crash was written before any rename happened: nothing to undo.
      return [];
    }
    this.removeDelivered(files);
    return files;
  }

  /** Remove delivered files (paths relative to the data directory); those already gone are skipped. */
  removeDelivered(files: readonly string[]): void {
    for (const f of files) {
      try {
        unlinkSync(join(this.dataDir, f));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }

  /**
   * `read_json` of an NDJSON file with the lake's fixed columns and types (derived from the schema). The
   * path is a glob to DuckDB: made literal, so a data directory named `lake [x]` is read as itself.
   */
  private scan(input: string): string {
    const struct = `{${RECORD_STRUCT.map((c) => `${duckdbString(c.name)}: ${duckdbString(c.type)}`).join(', ')}}`;
    return `read_json(${duckdbString(duckdbGlobLiteral(input))}, format = 'newline_delimited', columns = ${struct})`;
  }

  private async copyToParquet(input: string, output: string): Promise<void> {
    await this.connection.run(
      `COPY (SELECT * FROM ${this.scan(input)}) TO ${duckdbString(output)} (FORMAT parquet, COMPRESSION ${this.compression.toLowerCase()})`,
    );
  }

  private async readJson(input: string): Promise<void> {
    // Every column, so the conversion of each value is exercised (count(*) would skip them).
    await this.connection.run(`SELECT * FROM ${this.scan(input)}`);
  }

  close(): void {
    this.connection.closeSync();
    this.instance?.closeSync();
  }
}

/** Write a small file so that it is either complete or absent after a crash. */
export function writeDurably(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}
