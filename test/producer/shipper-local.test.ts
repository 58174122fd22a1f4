/**
 * The README's Shipper snippet pointed at the local pipeline, with nothing but an endpoint: no region
 * and no credentials in the environment (a fresh machine), as `loglake send` and the pino transport.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Shipper } from '../../src/producer';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';

let local: TestLocal;

beforeAll(async () => {
  local = await startTestLocal({ flushSeconds: 1 });
});
afterAll(async () => {
  await local?.dispose();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Shipper with a loopback endpoint', () => {
  it('delivers without a region or credentials configured', async () => {
    // Prepare: a machine with no AWS configuration at all.
    for (const name of [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_PROFILE',
    ]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
    const shipper = new Shipper({ streamName: 'logs', clientConfig: { endpoint: local.endpoint.url } });

    // Act
    shipper.push(
      JSON.stringify({ level: 'info', service: 'shop', message: 'order placed', correlation_id: 'req-42' }),
    );
    await shipper.close();
    await local.pipeline.flush();

    // Assess
    expect(shipper.counters.linesSent).toBe(1);
    expect(Object.values(shipper.counters.dropped).reduce((a, b) => a + b, 0)).toBe(0);
    const found = await searchLake(local.dataDir, { correlationId: 'req-42' });
    expect(found.map((r) => r.message)).toEqual(['order placed']);
  });
});
