/**
 * Access events of queries over the local lake, written into that lake: the event goes through the same
 * transform as every other record (the `audit` stream, so it is normalized and redacted like any log)
 * and is delivered as its own Parquet file under `logs/category=audit/…`, recorded in the integrity log
 * (source `access`). A running `loglake local` on the same directory is not disturbed: the file has its
 * own name and staging directory, and the integrity log serializes appends with its lock.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import { IntegrityLog } from '../compliance/integrity';
import type { LogLakeConfig } from '../config';
import { dataDirPaths } from '../local/datadir';
import { newSegmentId } from '../local/spool';
import { dataDirTransform } from '../local/transform';
import { LakeWriter } from '../local/writer';
import { type AccessEvent, type AccessSink, accessLogEvent } from './access';

export class LocalAccessSink implements AccessSink {
  /**
   * @param instance - an open DuckDB instance to write through (the query's own engine), so recording a
   *   read costs no second instance. @default none: a writer with its own instance per delivery
   */
  constructor(
    private readonly dataDir: string,
    private readonly config: LogLakeConfig,
    private readonly instance?: DuckDBInstance,
  ) {}

  async record(event: AccessEvent): Promise<void> {
    await this.recordAll([event]);
  }

  /**
   * Several events as one delivery (one Parquet file): the explorer records the queries of one page
   * together, so a page view adds one small file to the lake, not one per query.
   */
  async recordAll(events: readonly AccessEvent[]): Promise<void> {
    await this.recordLogEvents(events.map(accessLogEvent));
  }

  /** Writes one log event (e.g. a privacy request) into the local lake through the audit stream's transform. */
  async recordLogEvent(logEvent: Record<string, unknown>): Promise<void> {
    await this.recordLogEvents([logEvent]);
  }

  /** Log events as one delivery through the audit stream's transform, all or none. */
  private async recordLogEvents(logEvents: readonly Record<string, unknown>[]): Promise<void> {
    if (logEvents.length === 0) return;
    const paths = dataDirPaths(this.dataDir);
    const arrival = Date.now();
    const id = `access-${newSegmentId(arrival)}`;
    const records = logEvents.map((logEvent, i) => {
      const text = JSON.stringify(logEvent);
      return {
        id: `${id}-${i}`,
        arrival,
        data: Buffer.from(text).toString('base64'),
        bytes: Buffer.byteLength(text),
      };
    });
    const transform = dataDirTransform(this.config, this.dataDir);
    const results = transform(
      records.map((r) => ({ recordId: r.id, data: r.data, approximateArrivalTimestamp: arrival })),
      'audit',
    );
    const failed = results.find((r) => r.result !== 'Ok');
    if (failed) throw new Error(`the transform did not accept the access event (${failed.result})`);
    const writer = this.instance
      ? await LakeWriter.onInstance(this.instance, paths.root, paths.staging)
      : await LakeWriter.open(paths.root, paths.staging);
    let delivered: readonly string[] = [];
    try {
      // No manifest: nothing replays an access event; the query waits for it and fails if it fails.
      const report = await writer.deliver({ id, records }, results);
      delivered = report.files;
      new IntegrityLog(paths.root).recordDelivery('access', id, report.objects);
    } catch (error) {
      // Nothing half-kept: the files this delivery renamed into place go again.
      writer.removeDelivered(delivered);
      throw error;
    } finally {
      writer.close();
    }
  }
}
