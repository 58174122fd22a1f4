/**
 * The local endpoint refuses records (503, as Firehose does when it cannot take them) while the subject
 * key store is unusable, so user ids are never acknowledged unpseudonymized: a real fault (the store's
 * directory replaced by a file, which even root cannot write into), the real Firehose client, nothing
 * lost once the fault is gone, and no raw id anywhere in the lake.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, describe, expect, it } from 'vitest';
import { localSubjectKeyDir } from '../../src/privacy/local-store';
import { searchLake, startTestLocal } from '../helpers/local';

const dataDir = mkdtempSync(join(tmpdir(), 'loglake-keystore-fault-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Every file under `dir` except the spool (raw records wait there by design until delivered). */
function lakeFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => !f.includes(`spool`))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('local endpoint while the subject key store is unusable', () => {
  it('answers 503 ServiceUnavailableException, then takes the retried records once the store is back', async () => {
    const store = localSubjectKeyDir(dataDir);
    mkdirSync(dirname(store), { recursive: true });
    writeFileSync(store, 'not a directory\n');
    const local = await startTestLocal({ dataDir, flushSeconds: 3600 });
    try {
      const now = new Date().toISOString();
      const Records = ['raw-user-7001', 'raw-user-7002'].map((user_id, i) => ({
        Data: Buffer.from(
          `${JSON.stringify({ timestamp: now, level: 'INFO', service: 'shop', message: `order ${i}`, user_id })}\n`,
        ),
      }));
      const refused = await local.client
        .send(new PutRecordBatchCommand({ DeliveryStreamName: 'logs', Records }))
        .then(
          () => undefined,
          (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode?: number } },
        );
      expect(refused?.name).toBe('ServiceUnavailableException');
      expect(refused?.$metadata.httpStatusCode).toBe(503);
      expect(refused?.message).toMatch(/subject key store .* is not writable/);

      // A producer with the SDK's own retries: the fault goes away while it retries.
      const retrying = new FirehoseClient({
        endpoint: local.endpoint.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 20,
      });
      try {
        const put = retrying.send(new PutRecordBatchCommand({ DeliveryStreamName: 'logs', Records }));
        await new Promise((r) => setTimeout(r, 300));
        rmSync(store);
        const res = await put;
        expect(res.FailedPutCount).toBe(0);
        expect(res.$metadata.attempts).toBeGreaterThan(1);
      } finally {
        retrying.destroy();
      }
      await local.pipeline.flush();
      const records = await searchLake(dataDir);
      expect(records.map((r) => r.message).sort()).toEqual(['order 0', 'order 1']);
      for (const r of records) expect(r.user_id).toMatch(/^u_[0-9a-f]{32}$/);
      expect(readdirSync(store).filter((f) => !f.startsWith('.'))).toHaveLength(2);
      expect(JSON.stringify(records)).not.toContain('raw-user-');
      // Nothing was acknowledged and then failed: no record went to the error output.
      expect(lakeFiles(dataDir).filter((f) => f.includes(`${join(dataDir, 'errors')}`))).toEqual([]);
      for (const f of lakeFiles(dataDir)) expect(readFileSync(f).includes('raw-user-')).toBe(false);
    } finally {
      await local.dispose();
    }
  }, 120_000);
});
