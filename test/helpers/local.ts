/** The local pipeline for tests: started in-process on an ephemeral port with a fresh data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { type RunningLocal, startLocal } from '../../src/cli/commands/local';
import { buildQuery, decodeSearchRow, type LogFilter, type SearchRecord } from '../../src/query';
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';

export interface TestLocal extends RunningLocal {
  readonly client: FirehoseClient;
  /** Stop the pipeline (if running) and delete the data directory. */
  dispose(): Promise<void>;
}

export async function startTestLocal(
  options: { flushSeconds?: number; dataDir?: string; configFile?: string } = {},
): Promise<TestLocal> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'loglake-local-'));
  const quiet = { stdout: () => undefined, stderr: () => undefined };
  const local = await startLocal(
    {
      dataDir,
      port: 0,
      flushSeconds: options.flushSeconds ?? 60,
      quiet: true,
      ...(options.configFile ? { config: options.configFile } : {}),
    },
    quiet,
  );
  const client = firehoseClient(local.endpoint.url);
  let stopped = false;
  return {
    ...local,
    client,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await local.stop();
    },
    dispose: async () => {
      client.destroy();
      if (!stopped) {
        stopped = true;
        await local.stop();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The real SDK client, pointed at a local endpoint, with placeholder credentials. */
export function firehoseClient(url: string): FirehoseClient {
  return new FirehoseClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** Every record of a local lake matching the filter (default: the last and next day). */
export async function searchLake(dataDir: string, filter: Partial<LogFilter> = {}): Promise<SearchRecord[]> {
  const reader = await LocalLakeReader.open(dataDir);
  try {
    const built = buildQuery(
      {
        kind: 'search',
        filter: {
          since: new Date(Date.now() - 86_400_000),
          until: new Date(Date.now() + 86_400_000),
          ...filter,
        },
        order: 'asc',
      },
      { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] },
    );
    return (await reader.query(built)).map((r) => decodeSearchRow(built.columns, r));
  } finally {
    reader.close();
  }
}
