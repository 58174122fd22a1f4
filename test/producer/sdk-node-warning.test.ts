/**
 * The AWS SDK's Node-version notice (`NodeVersionSupportWarning`, eight lines on stderr on Node < 22) is
 * turned off where loglake owns the process or thread: `loglake send` and the pino transport's worker
 * thread. The suite runs on Node 24, where the SDK says nothing, so these run on an older Node of the
 * same machine (the system's `node`: Debian's v20 on CI, below Node 24 on PATH), with nothing in the
 * environment turning the notice off. A control run first shows that this Node does make the SDK warn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/child';
import { type FaultFirehose, startFaultFirehose } from '../helpers/fault-firehose';
import { run, sh } from '../helpers/run';

/** The SDK warns below this major version (`@aws-sdk/core`'s emitWarningIfUnsupportedVersion). */
const SDK_QUIET_FROM_MAJOR = 22;
const NOTICE = 'NodeVersionSupportWarning';

/** A Node binary older than {@link SDK_QUIET_FROM_MAJOR}: this one, one on PATH, or the system's. */
function olderNode(): { bin: string; version: string } | undefined {
  const candidates = [
    process.execPath,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'node')),
    '/usr/bin/node',
    '/usr/local/bin/node',
  ];
  const seen = new Set<string>();
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const real = realpathSync(bin);
    if (seen.has(real)) continue;
    seen.add(real);
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (major < SDK_QUIET_FROM_MAJOR) return { bin, version };
  }
  return undefined;
}

const OLD = olderNode();

/** The environment of a user's shell: nothing that silences the SDK, no AWS settings in reach. */
function env(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) out[k] = v;
  return {
    ...out,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

const received = (endpoint: FaultFirehose) =>
  [...endpoint.received.keys()].map((l) => (JSON.parse(l) as { msg?: string; message?: string }).msg ?? '');

describe.skipIf(OLD === undefined)(
  `the SDK's Node-version notice, on ${OLD?.version ?? 'an older Node: none found (no node < 22 on PATH, /usr/bin or /usr/local/bin)'}`,
  () => {
    const node = OLD?.bin as string;
    let endpoint: FaultFirehose;
    let work: string;
    beforeAll(async () => {
      endpoint = await startFaultFirehose(() => 'none');
      work = mkdtempSync(join(tmpdir(), 'loglake-sdk-notice-'));
    });
    afterAll(async () => {
      await endpoint.close();
      rmSync(work, { recursive: true, force: true });
    });

    it('is printed by the SDK on this Node when nothing turns it off (control)', async () => {
      // Act
      const r = await run(
        node,
        ['-e', "new (require('@aws-sdk/client-firehose').FirehoseClient)({ region: 'us-east-1' })"],
        { cwd: ROOT, env: env() },
      );

      // Assess: if the SDK stopped warning, the tests below prove nothing (and the suppression can go).
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(NOTICE);
    });

    it('is not printed by `loglake send`', async () => {
      // Act: as a user pipes a log into it.
      const r = await sh(
        `printf '%s\\n' '{"level":"info","msg":"sent on an older node"}' | '${node}' '${CLI}' send --stream logs --endpoint ${endpoint.url}`,
        { cwd: ROOT, env: env() },
      );

      // Assess
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain(NOTICE);
      expect(r.stderr).toMatch(/^loglake send: read 1 line\(s\); sent 1 line\(s\)/);
      expect(received(endpoint)).toContain('sent on an older node');
    }, 60_000);

    it('is not printed by the pino transport in its worker thread', async () => {
      // Prepare: the transport's package entry as plain JavaScript (a worker thread of Node 20 takes no
      // TypeScript loader), bundled from the same source.
      const entry = join(work, 'pino-entry.cjs');
      await build({
        entryPoints: [join(ROOT, 'src', 'producer', 'pino-entry.ts')],
        outfile: entry,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        logLevel: 'warning',
      });
      const script = `
        import pino from 'pino';
        const logger = pino({
          transport: { target: ${JSON.stringify(entry)}, options: { streamName: 'logs', endpoint: '${endpoint.url}' } },
        });
        logger.info('logged on an older node');
      `;

      // Act: the script ends on its own; pino waits for the worker to deliver.
      const r = await run(node, ['--input-type=module', '-e', script], { cwd: ROOT, env: env() });

      // Assess
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(received(endpoint)).toContain('logged on an older node');
    }, 60_000);
  },
);
