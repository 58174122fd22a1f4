/**
 * README's quickstart as a user types it: `npx loglake local`, then `tail -F app.log | npx loglake send …`
 * following a file the test appends to, `npx loglake search boom --since 15m` finding the line, and
 * Ctrl-C. The commands are read from README.md (only the endpoint's port changes); `npx loglake` finds
 * the checkout's bin linked into an empty project, as npm links an installed package's bin (the packed
 * package itself is test/package/pack.test.ts's). The quickstart's `aws firehose put-record` line is
 * run by test/package/aws-cli.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/child';
import { eventually, freePort, sh } from '../helpers/run';
import { readmeSnippet, shellCommands } from '../package/readme';

const quickstart = shellCommands(readmeSnippet('quickstart'));
const project = mkdtempSync(join(tmpdir(), 'loglake-quickstart-'));

/** A user's shell: no AWS settings (the local endpoint needs none). */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
}
const env = userEnv();

/** A command line run by bash in its own process group (the terminal's job), its output collected. */
function job(command: string): { child: ChildProcess; output: () => string; closed: Promise<void> } {
  const child = spawn('bash', ['-c', command], {
    cwd: project,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // 'close': every process of the job has exited and closed the output.
  const closed = once(child, 'close').then(() => undefined);
  return { child, output: () => output, closed };
}

/** Ctrl-C in the terminal: SIGINT to the whole job. */
function ctrlC(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
    process.kill(-child.pid, 'SIGINT');
}

let port: number;
let local: ReturnType<typeof job>;
const pointed = (command: string) => command.replaceAll('127.0.0.1:4573', `127.0.0.1:${port}`);

beforeAll(async () => {
  // An empty project with loglake's bin linked where npm links an installed package's.
  writeFileSync(join(project, 'package.json'), '{ "name": "user-project", "private": true }\n');
  mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(CLI, join(project, 'node_modules', '.bin', 'loglake'));
  port = await freePort();
  const start = quickstart.find((c) => c.startsWith('npx loglake local'));
  expect(start).toBe('npx loglake local');
  local = job(`exec ${start} --port ${port}`);
  await eventually(async () => (local.output().includes(' ready: ') ? true : undefined), 60_000);
}, 90_000);

afterAll(async () => {
  ctrlC(local.child);
  await local.closed;
  rmSync(project, { recursive: true, force: true });
}, 60_000);

describe('README quickstart', () => {
  it('ships a line appended to app.log through `tail -F app.log | npx loglake send`, found by `npx loglake search boom`', async () => {
    // Prepare: README's commands, exactly.
    const send = quickstart.find((c) => c.startsWith('tail -F app.log |'));
    const search = quickstart.find((c) => c.startsWith('npx loglake search'));
    expect(send).toBe('tail -F app.log | npx loglake send --stream logs --endpoint http://127.0.0.1:4573');
    expect(search).toBe('npx loglake search boom --since 15m');
    const log = join(project, 'app.log');
    writeFileSync(log, '');
    const shipping = job(pointed(send as string));

    // Act: the application writes a line; once it is found, Ctrl-C stops the shipper.
    appendFileSync(
      log,
      `${JSON.stringify({ level: 'error', service: 'quickstart', message: 'boom in app.log', correlation_id: 'qs-1' })}\n`,
    );
    const found = await eventually(async () => {
      const r = await sh(search as string, { cwd: project, env });
      return r.status === 0 && r.stdout.includes('qs-1') ? r.stdout : undefined;
    });
    ctrlC(shipping.child);
    await shipping.closed;
    const json = await sh(`${search} --format json`, { cwd: project, env });

    // Assess
    expect(found).toContain('quickstart');
    expect(found).toContain('boom in app.log');
    expect(shipping.output()).toMatch(
      /loglake send: read 1 line\(s\); sent 1 line\(s\) in 1 record\(s\).*dropped 0\n/,
    );
    expect(
      (JSON.parse(json.stdout) as Array<{ correlation_id: string }>).map((r) => r.correlation_id),
    ).toEqual(['qs-1']);
  }, 180_000);
});
