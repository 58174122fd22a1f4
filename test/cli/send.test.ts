/**
 * `loglake send` as users run it: a real child process fed by a pipe (`tail -F app.log | loglake send`),
 * real SIGINT/SIGTERM, a stalled endpoint and a dead one. Plus `sendLines` in-process for what a signal
 * must not lose: lines read but not yet sent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { sendLines } from '../../src/cli/commands/send';
import { type FaultFirehose, startFaultFirehose } from '../helpers/fault-firehose';

const CLI = join(__dirname, '..', '..', 'bin', 'loglake.cjs');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const line = (i: number) => JSON.stringify({ level: 'INFO', service: 'send-test', message: `line ${i}` });

interface Child {
  readonly child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code, or the signal that killed it. */
  readonly exit: Promise<number | NodeJS.Signals | null>;
}

/** `pipeOut`: its stdout feeds another child, so this process must not read it. */
function spawnChild(
  command: string,
  args: string[],
  stdin: 'pipe' | NodeJS.ReadableStream | number | null,
  pipeOut = false,
): Child {
  const child = spawn(command, args, {
    stdio: [stdin === 'pipe' ? 'pipe' : stdin === null ? 'ignore' : (stdin as never), 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  if (!pipeOut) child.stdout?.resume();
  const exit = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, stderr: () => err, exit };
}

/** A file as a child's stdin (`loglake send < file`): its descriptor, closed after the test. */
function fileInput(path: string): number {
  const fd = openSync(path, 'r');
  cleanups.push(() => closeSync(fd));
  return fd;
}

function loglakeSend(args: string[], stdin: 'pipe' | NodeJS.ReadableStream | number): Child {
  return spawnChild(process.execPath, [CLI, 'send', '--stream', 'logs', ...args], stdin);
}

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An endpoint that holds every call for `stallMs` before accepting it, and counts calls as they start. */
async function stallingEndpoint(stallMs: number): Promise<{ endpoint: FaultFirehose; calls: () => number }> {
  let calls = 0;
  const endpoint = await startFaultFirehose(() => {
    calls++;
    return 'slow';
  }, stallMs);
  cleanups.push(() => endpoint.close());
  return { endpoint, calls: () => calls };
}

describe('loglake send and signals', () => {
  it('delivers every line of `tail -F app.log | loglake send` on Ctrl-C, prints its counters and exits 0', async () => {
    // Prepare: tail follows a log file; the endpoint holds the first call so it is in flight at Ctrl-C
    const dir = mkdtempSync(join(tmpdir(), 'loglake-send-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'app.log');
    writeFileSync(log, Array.from({ length: 50 }, (_, i) => `${line(i)}\n`).join(''));
    const { endpoint, calls } = await stallingEndpoint(2_000);
    const tail = spawnChild('tail', ['-n', '+1', '-F', log], null, true);
    const send = loglakeSend(
      ['--endpoint', endpoint.url, '--flush-ms', '100'],
      tail.child.stdout as NodeJS.ReadableStream,
    );
    await until('the first call', () => calls() > 0);
    appendFileSync(log, `${line(50)}\n${line(51)}\n`);

    // Act: what a terminal does on Ctrl-C: SIGINT to every process of the pipeline
    await new Promise((r) => setTimeout(r, 300));
    tail.child.kill('SIGINT');
    send.child.kill('SIGINT');
    const code = await send.exit;

    // Assess
    expect(code).toBe(0);
    expect(send.stderr()).toMatch(/SIGINT, no more input/);
    expect(send.stderr()).toMatch(/read 52 line\(s\); sent 52 line\(s\) in \d+ record\(s\).*dropped 0$/m);
    expect([...endpoint.received.keys()].sort()).toEqual(
      Array.from({ length: 52 }, (_, i) => line(i)).sort(),
    );
  }, 60_000);

  it('stops reading on SIGTERM while its input stays open, and delivers what it read', async () => {
    // Prepare
    const { endpoint, calls } = await stallingEndpoint(1_500);
    const send = loglakeSend(['--endpoint', endpoint.url, '--flush-ms', '100'], 'pipe');
    send.child.stdin?.write(Array.from({ length: 30 }, (_, i) => `${line(i)}\n`).join(''));
    await until('the first call', () => calls() > 0);

    // Act
    send.child.kill('SIGTERM');
    const code = await send.exit;

    // Assess
    expect(code).toBe(0);
    expect(send.stderr()).toMatch(/read 30 line\(s\); sent 30 line\(s\) in/);
    expect(endpoint.received.size).toBe(30);
  }, 60_000);

  it('names a dead endpoint at once, shows its retries, and on a second Ctrl-C drops the lines and exits 1', async () => {
    // Prepare
    const send = loglakeSend(['--endpoint', 'http://127.0.0.1:1', '--flush-ms', '100'], 'pipe');
    send.child.stdin?.write(Array.from({ length: 4 }, (_, i) => `${line(i)}\n`).join(''));

    // Act: the input is still open, so anything printed now is printed as it happens
    await until('a connection error', () => /retrying/.test(send.stderr()));
    const early = send.stderr();
    send.child.kill('SIGINT');
    await until('the stop', () => /no more input/.test(send.stderr()));
    send.child.kill('SIGINT');
    const code = await send.exit;

    // Assess
    expect(early).toMatch(
      /loglake send: cannot connect to http:\/\/127\.0\.0\.1:1: ECONNREFUSED; retrying 4 line\(s\) in \d+\.\d s \(attempt 2\)/,
    );
    expect(code).toBe(1);
    expect(send.stderr()).toMatch(
      /read 4 line\(s\); sent 0 line\(s\) in 0 record\(s\).*dropped 4: shutdown 4 \(last error: cannot connect to http:\/\/127\.0\.0\.1:1: ECONNREFUSED\)/,
    );
  }, 60_000);

  it('gives up after --close-timeout at the end of its input, reporting what it dropped', async () => {
    // Prepare
    const send = loglakeSend(['--endpoint', 'http://127.0.0.1:1', '--close-timeout', '1'], 'pipe');

    // Act
    send.child.stdin?.end(`${line(1)}\n${line(2)}\n`);
    const code = await send.exit;

    // Assess
    expect(code).toBe(1);
    expect(send.stderr()).toMatch(/cannot connect to http:\/\/127\.0\.0\.1:1: ECONNREFUSED; retrying 2 line/);
    expect(send.stderr()).toMatch(/read 2 line\(s\); sent 0 .*dropped 2: shutdown 2/);
  }, 60_000);
});

describe('loglake send --dropped-file', () => {
  it('keeps every line it drops in the file, whole and private, and sends them all again from it', async () => {
    // Prepare: a dead endpoint, and a line too large for any record among two ordinary ones
    const dir = mkdtempSync(join(tmpdir(), 'loglake-send-dropped-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const kept = join(dir, 'dropped.ndjson');
    const huge = JSON.stringify({ level: 'INFO', service: 'send-test', message: 'x'.repeat(1_100_000) });
    const send = loglakeSend(
      ['--endpoint', 'http://127.0.0.1:1', '--close-timeout', '1', '--dropped-file', kept],
      'pipe',
    );

    // Act
    send.child.stdin?.end(`${line(1)}\n${huge}\n${line(2)}\n`);
    const code = await send.exit;
    const endpoint = await startFaultFirehose(() => 'none');
    cleanups.push(() => endpoint.close());
    const resend = spawnChild(
      process.execPath,
      [CLI, 'send', '--stream', 'logs', '--endpoint', endpoint.url, '--close-timeout', '5'],
      fileInput(kept),
    );
    const resent = await resend.exit;

    // Assess
    expect(code).toBe(1);
    expect(send.stderr()).toMatch(/dropped 1 line\(s\): oversize \(.*\); kept in /);
    expect(send.stderr()).toContain(
      `dropped 3: oversize 1 (line of ${huge.length} bytes exceeds the 1024000-byte record), shutdown 2 (last error: cannot connect to http://127.0.0.1:1: ECONNREFUSED); 3 kept in ${kept} (send them again: loglake send --stream logs < ${kept})`,
    );
    expect(readFileSync(kept, 'utf8').split('\n').sort()).toEqual(['', huge, line(1), line(2)].sort());
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    // The ordinary lines arrive; the huge one is dropped again, and kept nowhere (no --dropped-file).
    expect(resent).toBe(1);
    expect([...endpoint.received.keys()].sort()).toEqual([line(1), line(2)].sort());
    expect(resend.stderr()).toMatch(/read 3 line\(s\); sent 2 line\(s\).*dropped 1: oversize 1/);
  }, 60_000);

  it('refuses to keep dropped lines in the file it reads', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'loglake-send-dropped-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'lines.ndjson');
    writeFileSync(file, `${line(1)}\n`);

    // Act
    const send = loglakeSend(['--endpoint', 'http://127.0.0.1:1', '--dropped-file', file], fileInput(file));
    const code = await send.exit;

    // Assess
    expect(code).toBe(2);
    expect(send.stderr()).toContain(`--dropped-file ${file} is the input itself`);
    expect(readFileSync(file, 'utf8')).toBe(`${line(1)}\n`);
  }, 30_000);
});

describe('sendLines', () => {
  it('sends the lines it read but had not sent yet when told to stop, a last line without newline included', async () => {
    // Prepare: a long flush interval, so nothing goes out before the stop
    const endpoint = await startFaultFirehose(() => 'none');
    cleanups.push(() => endpoint.close());
    const input = new PassThrough();
    const stop = new AbortController();
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (s: string) => void err.push(s) };
    const running = sendLines(input, { stream: 'logs', endpoint: endpoint.url, flushMs: 600_000 }, io, {
      stop: stop.signal,
    });
    input.write(`${line(1)}\n${line(2)}\r\n\n${line(3)}`);
    await new Promise((r) => setTimeout(r, 50));

    // Act
    stop.abort();
    const report = await running;

    // Assess
    expect(report.linesRead).toBe(3);
    expect(report.linesSent).toBe(3);
    expect([...endpoint.received.keys()].sort()).toEqual([line(1), line(2), line(3)].sort());
    expect(err.join('')).toMatch(/delivering the 3 line\(s\) read but not yet sent/);
  });
});

describe('sendLines with the endpoint down and the queue full', () => {
  /** More than the shipper's 32 MiB queue, so reading waits for room that never comes. */
  async function stuckSend(closeTimeout: number) {
    const endpoint = await startFaultFirehose(() => 'error500');
    cleanups.push(() => endpoint.close());
    const input = new PassThrough();
    const stop = new AbortController();
    const abandon = new AbortController();
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (s: string) => void err.push(s) };
    const running = sendLines(input, { stream: 'logs', endpoint: endpoint.url, closeTimeout }, io, {
      stop: stop.signal,
      abandon: abandon.signal,
    });
    const pad = 'x'.repeat(100_000);
    for (let i = 0; i < 360; i++) input.write(`${JSON.stringify({ message: `line ${i}`, pad })}\n`);
    await until('a failing call', () => err.some((s) => /retrying/.test(s)));
    await new Promise((r) => setTimeout(r, 200));
    return { running, stop, abandon };
  }

  const settled = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

  it('gives up after --close-timeout from the signal, every line read delivered or dropped', async () => {
    // Prepare
    const { running, stop } = await stuckSend(1);

    // Act
    stop.abort();
    const report = await settled(running, 10_000);

    // Assess
    expect(report).not.toBe('pending');
    if (report === 'pending') return;
    const dropped = Object.values(report.dropped).reduce((s, n) => s + n, 0);
    expect(report.dropped.shutdown).toBeGreaterThan(0);
    expect(report.linesSent + dropped).toBe(report.linesRead);
  }, 60_000);

  it('gives up at once on a second signal', async () => {
    // Prepare: a close timeout far longer than the test
    const { running, stop, abandon } = await stuckSend(600);

    // Act
    stop.abort();
    await new Promise((r) => setTimeout(r, 200));
    abandon.abort();
    const report = await settled(running, 10_000);

    // Assess
    expect(report).not.toBe('pending');
    if (report === 'pending') return;
    const dropped = Object.values(report.dropped).reduce((s, n) => s + n, 0);
    expect(report.linesSent + dropped).toBe(report.linesRead);
  }, 60_000);
});
