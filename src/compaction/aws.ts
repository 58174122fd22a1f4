/**
 * The compaction's ports over the real SDK clients: the bucket ({@link S3ObjectStore}) and Athena
 * ({@link AthenaSqlEngine}). Also used by the emulator and Trino tests, against MiniStack's S3 and an
 * Athena API in front of Trino.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DeliveryError } from '../errors';
import { runAthena } from '../query/athena';
import type { ObjectStore, SqlEngine, StoredObject } from './objects';

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The `logs` bucket. Deletes check every key's result; copies keep the bucket's default encryption. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? []) {
        if (o.Key) {
          out.push({
            key: o.Key,
            bytes: o.Size ?? 0,
            ...(o.StorageClass ? { storageClass: o.StorageClass } : {}),
          });
        }
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: toKey,
        CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
      }),
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.deleteObjects(keys.map((Key) => ({ Key })));
  }

  async deleteOldVersions(prefix: string): Promise<number> {
    const old: ObjectIdentifier[] = [];
    const markers: ObjectIdentifier[] = [];
    // The SDK has no paginator for ListObjectVersions: follow its key and version markers.
    let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const page = await this.s3.send(
        new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, ...marker }),
      );
      for (const v of page.Versions ?? []) {
        if (v.Key && v.VersionId && v.IsLatest === false) old.push({ Key: v.Key, VersionId: v.VersionId });
      }
      for (const m of page.DeleteMarkers ?? []) {
        if (m.Key && m.VersionId) markers.push({ Key: m.Key, VersionId: m.VersionId });
      }
      if (!page.IsTruncated || !page.NextKeyMarker) break;
      marker = {
        ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}),
        ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}),
      };
    }
    // Versions first: removing a delete marker while the version under it is left would make that
    // version current again (a deleted source back in the partition).
    await this.deleteObjects(old);
    await this.deleteObjects(markers);
    return old.length + markers.length;
  }

  /** DeleteObjects takes at most 1,000 keys, and reports failures per key in a 200 response. */
  private async deleteObjects(objects: readonly ObjectIdentifier[]): Promise<void> {
    for (let i = 0; i < objects.length; i += 1000) {
      const chunk = objects.slice(i, i + 1000);
      const r = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk, Quiet: true } }),
      );
      const failed = r.Errors ?? [];
      if (failed.length > 0) {
        throw new DeliveryError(
          `s3://${this.bucket}: ${failed.length} of ${chunk.length} deletes failed, e.g. ${failed[0]?.Key}${failed[0]?.VersionId ? ` version ${failed[0].VersionId}` : ''}: ${failed[0]?.Code} ${failed[0]?.Message ?? ''}`,
        );
      }
    }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.getWithEtag(key))?.body;
  }

  async getWithEtag(key: string): Promise<{ body: string; etag: string } | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: (await r.Body?.transformToString('utf8')) ?? '', etag: r.ETag ?? '' };
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async put(key: string, body: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
  }

  async putIf(
    key: string,
    body: string,
    condition: { readonly absent: true } | { readonly etag: string },
  ): Promise<boolean> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ...('etag' in condition ? { IfMatch: condition.etag } : { IfNoneMatch: '*' }),
        }),
      );
      return true;
    } catch (error) {
      // 412: the condition failed; 409: a concurrent conditional write to the same key won.
      if (status(error) === 412 || status(error) === 409) return false;
      throw error;
    }
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}

/** Athena through its workgroup (which enforces the results location, encryption and scan cutoff). */
export class AthenaSqlEngine implements SqlEngine {
  constructor(
    private readonly athena: AthenaClient,
    private readonly options: {
      readonly workGroup: string;
      readonly database: string;
      /** First poll delay. @default 250 ms (`runAthena`'s) */
      readonly pollMs?: number;
      /** Longest poll delay. @default 2 s (`runAthena`'s) */
      readonly maxPollMs?: number;
    },
  ) {}

  async execute(sql: string): Promise<number> {
    const run = await runAthena(
      this.athena,
      { dialect: 'athena', sql, params: [], columns: [] },
      this.options,
    );
    return run.scannedBytes;
  }

  async query(sql: string): Promise<{ rows: Array<Record<string, unknown>>; scannedBytes: number }> {
    const run = await runAthena(
      this.athena,
      { dialect: 'athena', sql, params: [], columns: [] },
      this.options,
    );
    const rows: Array<Record<string, unknown>> = [];
    for await (const page of run.pages) rows.push(...page);
    return { rows, scannedBytes: run.scannedBytes };
  }
}
