/**
 * The compliance report's Athena items over a deployed stack (`compliance-report --stack`), run on the
 * Trino tier: the production readers of src/compliance/aws.ts, through the real Athena client and the
 * Athena front end, over the tier's lake of known contents, checked against the same lake read by DuckDB.
 * The emulator's Athena cannot run them (no execution parameters), and their SQL is their own (`$path`,
 * `json_format`, `UNION ALL` with parameters per branch), not the query builder's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeployedLake,
  deployedLake,
  readAccessLog,
  readRedaction,
  readRequests,
  readVolume,
} from '../../src/compliance/aws';
import { DEFAULT_CONFIG } from '../../src/config';
import { bucketOutput, STACK_OUTPUTS, tableOutput } from '../../src/outputs';
import { DETECTOR_SET_LABEL } from '../../src/redact/version';
import { openTierLake, type TierLake, tierData } from './lake';

let lake: TierLake;
let deployed: DeployedLake;
let window: { since: Date; until: Date };

beforeAll(async () => {
  lake = await openTierLake();
  deployed = deployedLake('TierStack', 'eu-west-1', {
    [bucketOutput('logs')]: 'tier-logs',
    [bucketOutput('audit')]: 'tier-audit',
    [STACK_OUTPUTS.key]: 'arn:aws:kms:eu-west-1:111122223333:key/tier',
    [STACK_OUTPUTS.database]: lake.schema,
    [STACK_OUTPUTS.workGroup]: 'primary',
    [tableOutput('logs')]: 'logs',
    [tableOutput('audit')]: 'audit',
  });
  const data = tierData();
  window = { since: new Date(data.start), until: new Date(data.end) };
}, 120_000);

afterAll(async () => {
  await lake?.close();
});

/** Records of the window per category, as DuckDB counts them over the same files. */
async function duckdbCount(): Promise<number> {
  const { rows } = await lake.duckdb({ kind: 'aggregate', filter: window, groupBy: [] });
  return Number((rows[0] as Record<string, unknown> | undefined)?.count ?? 0);
}

describe('compliance-report --stack, the Athena items on Trino', () => {
  it('lists the access events of the audit table, flagging the bulk read', async () => {
    const item = await readAccessLog(lake.athena.client, deployed, DEFAULT_CONFIG, window);

    expect(item.rows).toHaveLength(13);
    expect(new Set(item.rows.map((r) => r[1]))).toEqual(new Set(['alice@laptop']));
    const bulk = item.rows.filter((r) => r[6] === 'bulk_read');
    expect(bulk).toHaveLength(1);
    // The filters as sorted key=value words, and the bytes the engine scanned.
    expect(bulk[0]?.slice(8)).toEqual(['levels=ERROR text=boom', '1048576']);
    expect(item.rows[0]?.slice(8)).toEqual(['', '']);
    expect(item.status).toBe('notice');
  });

  it('counts the same records per category and service as DuckDB does', async () => {
    const item = await readVolume(lake.athena.client, deployed, window);

    const total = item.rows.reduce((n, r) => n + Number(r[2]), 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBe(await duckdbCount());
  });

  it('rescans every stored record of the period, all of them redacted by the transform', async () => {
    const item = await readRedaction(lake.athena.client, deployed, DEFAULT_CONFIG, window);

    expect(item.summary[0]).toBe('unredacted secrets found: 0');
    expect(item.summary[1]).toBe(
      `${await duckdbCount()} stored record(s) rescanned (all of the period), ${DETECTOR_SET_LABEL}`,
    );
    expect(item.status).toBe('ok');
  });

  it('samples a period larger than the limit, and says so', async () => {
    const item = await readRedaction(lake.athena.client, deployed, DEFAULT_CONFIG, window, 100);

    expect(item.summary[1]).toMatch(
      /^a random sample of \d+ of the period's \d+ stored record\(s\) rescanned/,
    );
  });

  it('finds no erasure or export request in a lake that had none', async () => {
    const item = await readRequests(lake.athena.client, deployed, window);

    expect(item.rows).toEqual([]);
    expect(item.summary).toEqual(['0 request event(s) in the period']);
  });
});
