/** `loglake local` flags: `--buffer-mib` takes what the config takes, and help and README agree. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferMibOption } from '../../src/cli/commands/local';
import { DEFAULT_CONFIG } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'loglake.cjs');

function run(
  args: string[],
  untilOutput?: RegExp,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Once: a second SIGTERM means "exit without flushing" (and the explorer's line comes after).
      if (!killed && untilOutput?.test(out)) {
        killed = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('loglake local --buffer-mib', () => {
  it('accepts the processor buffer sizes the config accepts, fractions included, and nothing else', () => {
    // Act + Assess
    expect([bufferMibOption('0.2'), bufferMibOption('0.5'), bufferMibOption('3')]).toEqual([0.2, 0.5, 3]);
    for (const bad of ['0.1', '3.5', '128', 'one', '', '-1'])
      expect(() => bufferMibOption(bad), bad).toThrow(/expected a number of MiB from 0.2 to 3/);
  });

  it('starts with a fractional buffer', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-flags-'));

    // Act
    const r = await run(['local', '--port', '0', '--data-dir', dataDir, '--buffer-mib', '0.5'], /ready: /);
    rmSync(dataDir, { recursive: true, force: true });

    // Assess
    expect(r.err).not.toMatch(/invalid/);
    expect(r.out).toMatch(/loglake local ready: http:\/\/127\.0\.0\.1:\d+/);
    expect(r.code).toBe(0);
  }, 60_000);

  it('states the same range and default in --help and in the README', async () => {
    // Prepare
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const dflt = DEFAULT_CONFIG.firehose.processorBufferSizeMiB;

    // Act
    const help = (await run(['local', '--help'])).out.replace(/\s+/g, ' ');

    // Assess
    expect(help).toContain(
      `--buffer-mib <n> deliver a buffer once it holds this many MiB, 0.2-3 (default: the config's firehose.processorBufferSizeMiB, ${dflt})`,
    );
    expect(readme).toContain(`[--buffer-mib ${dflt}]`);
    expect(readme).toMatch(
      new RegExp(
        `\`--buffer-mib\` \\(0\\.2–3, fractions allowed; default: the config's\\s+Lambda processor buffer,\\s+${dflt} MiB\\)`,
      ),
    );
  }, 60_000);
});
