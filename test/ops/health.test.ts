/**
 * `loglake health` against a real local pipeline whose data directory is on a small tmpfs file system
 * (mounted for the test; as root, or through passwordless `sudo`), filled to below, past 80% and past
 * 90%: the disk check and the exit status follow. The other checks on a real data directory.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDirPaths } from '../../src/local/datadir';
import { diskStatus, diskUsage, type HealthReport, localHealth } from '../../src/ops/health';
import { loglake } from '../helpers/cli';
import { startTestLocal, type TestLocal } from '../helpers/local';

const SIZE_MIB = 16;

/** `mount` as root, or through `sudo -n` for a CI user. */
function privileged(args: string[]): void {
  const root = process.getuid?.() === 0;
  const r = spawnSync(root ? (args[0] ?? '') : 'sudo', root ? args.slice(1) : ['-n', ...args], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(
      `${args.join(' ')} failed (this test needs root or passwordless sudo): ${r.stderr || r.error}`,
    );
  }
}

/** Fill the file system of `dir` to about `percent` used with one ballast file. */
function fillTo(dir: string, percent: number): void {
  const ballast = join(dir, 'ballast');
  rmSync(ballast, { force: true });
  const { usedBytes, availableBytes } = diskUsage(dir);
  const total = usedBytes + availableBytes;
  const bytes = Math.max(0, Math.round((percent / 100) * total) - usedBytes);
  const fd = openSync(ballast, 'w');
  try {
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let left = bytes; left > 0; left -= chunk.length)
      writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  } finally {
    closeSync(fd);
  }
}

describe('loglake health: disk thresholds on a small file system', () => {
  let mount: string;
  let local: TestLocal;
  beforeAll(async () => {
    mount = mkdtempSync(join(tmpdir(), 'loglake-tmpfs-'));
    privileged(['mount', '-t', 'tmpfs', '-o', `size=${SIZE_MIB}m`, 'tmpfs', mount]);
    local = await startTestLocal({ dataDir: join(mount, 'data') });
    const res = await local.client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'logs',
        Record: { Data: Buffer.from('{"level":"info","service":"web","message":"up"}\n') },
      }),
    );
    expect(res.RecordId).toBeTruthy();
    await local.pipeline.flush();
  });
  afterAll(async () => {
    await local?.dispose();
    if (mount) {
      privileged(['umount', mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });

  const health = async () => {
    const r = await loglake([
      'health',
      '--data-dir',
      join(mount, 'data'),
      '--port',
      new URL(local.endpoint.url).port,
      '--format',
      'json',
    ]);
    const report = JSON.parse(r.stdout) as HealthReport;
    return { code: r.code, report, disk: report.checks.find((c) => c.name === 'disk') };
  };

  it.each([
    [50, 'ok', 0],
    [85, 'warning', 1],
    [95, 'critical', 2],
  ] as const)(
    'at about %i percent used the disk check is %s and health exits %i',
    async (percent, status, code) => {
      // Arrange
      fillTo(mount, percent);

      // Act
      const r = await health();

      // Assert
      expect(r.disk?.status).toBe(status);
      expect(Math.abs(Number(r.disk?.values.usedPercent) - percent)).toBeLessThan(3);
      expect(r.disk?.values.totalBytes).toBe(SIZE_MIB * 1024 * 1024);
      expect(r.report.checks.filter((c) => c.name !== 'disk').map((c) => [c.name, c.status])).toEqual([
        ['endpoint', 'ok'],
        ['spool.logs', 'ok'],
        ['spool.audit', 'ok'],
        ['delivery.logs', 'ok'],
        ['delivery.audit', 'ok'],
        ['error-output', 'ok'],
      ]);
      expect(r.code).toBe(code);
    },
  );
});

describe('health checks of a data directory', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'loglake-health-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('warns on a stopped pipeline, a stuck spool (critical after an hour) and fresh error output', async () => {
    // Arrange: a spool segment 10 minutes old, another 2 hours old, and an error document just written
    const now = new Date();
    const spool = dataDirPaths(dataDir).spool('logs');
    mkdirSync(spool, { recursive: true });
    writeFileSync(join(spool, 'a.seg'), 'x'.repeat(100));
    utimesSync(join(spool, 'a.seg'), new Date(now.getTime() - 600_000), new Date(now.getTime() - 600_000));
    const auditSpool = dataDirPaths(dataDir).spool('audit');
    mkdirSync(auditSpool, { recursive: true });
    writeFileSync(join(auditSpool, 'b.seg'), 'y');
    utimesSync(
      join(auditSpool, 'b.seg'),
      new Date(now.getTime() - 7_200_000),
      new Date(now.getTime() - 7_200_000),
    );
    const errors = join(dataDir, 'errors', 'processing-failed', 'dt=2026-11-30');
    mkdirSync(errors, { recursive: true });
    writeFileSync(join(errors, 'e.ndjson'), '{"errorCode":"x"}\n');

    // Act: port 1 answers nothing
    const report = await localHealth(dataDir, { endpoint: { host: '127.0.0.1', port: 1 }, now });

    // Assert
    const status = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
    expect(status).toMatchObject({
      endpoint: 'warning',
      'spool.logs': 'warning',
      'spool.audit': 'critical',
      'error-output': 'warning',
    });
    expect(report.checks.find((c) => c.name === 'spool.logs')?.values).toMatchObject({
      segments: 1,
      bytes: 100,
      oldestAgeSeconds: 600,
    });
    expect(report.status).toBe('critical');
  });

  it.each([
    [79.9, 'ok'],
    [80, 'warning'],
    [89.9, 'warning'],
    [90, 'critical'],
  ] as const)('%f%% is %s', (percent, status) => {
    // Act
    const got = diskStatus(percent);

    // Assert
    expect(got).toBe(status);
  });
});
