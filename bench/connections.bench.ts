/**
 * What load the local endpoint takes: 10,000 producers connecting at once, each with its own connection
 * and one PutRecord, from this process to the endpoint in a second process. Measured with Node's default
 * listen backlog (511, the baseline) and with the endpoint's (`DEFAULT_BACKLOG`, capped by the kernel's
 * `net.core.somaxconn`), next to a bare Node HTTP server that answers at once (the floor: connection
 * setup alone). Every acknowledged record must be in the pipeline's count afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BACKLOG } from '../src/local/server';

const CONNECTIONS = Number(process.argv[2] ?? 10_000);

function startEndpoint(
  dataDir: string,
  backlog: number,
  bare: boolean,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'endpoint-process.ts'),
      dataDir,
      String(backlog),
      ...(bare ? ['bare'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ready: (\S+)/.exec(out);
      if (m?.[1]) {
        child.stdout?.off('data', onData);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`endpoint exited (${code})`)));
  });
}

function putRecord(url: URL, i: number): Promise<string> {
  const body = JSON.stringify({
    DeliveryStreamName: 'logs',
    Record: {
      Data: Buffer.from(`${JSON.stringify({ level: 'INFO', message: `conn ${i}` })}\n`).toString('base64'),
    },
  });
  return new Promise((resolve) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        method: 'POST',
        agent: false,
        headers: {
          'x-amz-target': 'Firehose_20150804.PutRecord',
          'content-type': 'application/x-amz-json-1.1',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 120_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(body);
  });
}

async function run(backlog: number, label: string, bare = false): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loglake-bench-conn-'));
  const { child, url } = await startEndpoint(dataDir, backlog, bare);
  try {
    const target = new URL(url);
    const t0 = performance.now();
    const outcomes = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => putRecord(target, i)));
    const ms = performance.now() - t0;
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    const stats = await new Promise<{ recordsAccepted: number }>((resolve) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}')));
      child.kill('SIGTERM');
    });
    const ok = counts.get('200') ?? 0;
    console.log(
      `${label.padEnd(38)} ${CONNECTIONS.toLocaleString('en')} at once: ${ok.toLocaleString('en')} acknowledged ` +
        `(${((ok / CONNECTIONS) * 100).toFixed(1)}%), ${
          [...counts]
            .filter(([k]) => k !== '200')
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'no errors'
        }; ` +
        `all answered in ${(ms / 1000).toFixed(1)} s; ${stats.recordsAccepted === ok ? 'accepted = acknowledged' : `MISMATCH: accepted ${stats.recordsAccepted}`}`,
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let somaxconn = 'unknown';
  try {
    somaxconn = readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
  } catch {
    // not Linux
  }
  console.log(`net.core.somaxconn ${somaxconn}`);
  await run(DEFAULT_BACKLOG, 'floor: bare Node HTTP server', true);
  await run(511, 'baseline: backlog 511 (Node default)');
  await run(DEFAULT_BACKLOG, `endpoint: backlog ${DEFAULT_BACKLOG}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
