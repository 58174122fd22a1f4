import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers';
import { envWithoutAws, run } from './tools';

const CDK = path.join(ROOT, 'node_modules/.bin/cdk');
const outdirs: string[] = [];
function outdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'loglake-synth-'));
  outdirs.push(dir);
  return dir;
}

/** `cdk synth` into `out` with `-c` context values, with no AWS credentials in reach. */
function synth(out: string, ...context: string[]) {
  return run(
    CDK,
    ['synth', '-q', '--no-notices', '--output', out, ...context.flatMap((c) => ['-c', c])],
    envWithoutAws(),
  );
}

describe('cdk synth (the real CLI, bundling included)', () => {
  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it('synthesizes with no credentials, no lookups, nag and bundling on', () => {
    const out = outdir();

    const result = synth(out, 'loglake={"categories":{"debug":{"expiryDays":7}}}');

    expect(result.stderr).not.toMatch(/ERROR|Validation failed/);
    expect(result.status).toBe(0);
    const template = JSON.parse(readFileSync(path.join(out, 'LogLake.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const rules = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::S3::Bucket')
      .flatMap(
        (r) =>
          (r.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] } | undefined)?.Rules ??
          [],
      );
    expect(rules.find((r) => r.Prefix === 'logs/category=debug/')?.ExpirationInDays).toBe(7);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      missing?: unknown;
      artifacts: Record<string, { environment?: string }>;
    };
    expect(manifest.missing).toBeUndefined();
    expect(manifest.artifacts.LogLake?.environment).toBe('aws://unknown-account/unknown-region');
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    // Two transform functions, the alarm Lambda, the compaction Lambda, the erasure executor and the
    // access recorder.
    expect(functions).toHaveLength(6);
    // esbuild ran on the host: each function's asset is one minified bundle with its source map.
    const bundles = readdirSync(out)
      .filter((f) => f.startsWith('asset.'))
      .map((f) => path.join(out, f, 'index.js'))
      .filter((f) => existsSync(f));
    expect(bundles.length).toBeGreaterThanOrEqual(1);
    for (const bundle of bundles) {
      expect(statSync(bundle).size).toBeGreaterThan(50_000);
      expect(existsSync(`${bundle}.map`)).toBe(true);
    }
  }, 180_000);

  it('fails with a message naming the field and the value when the config is invalid', () => {
    const result = synth(outdir(), 'loglake={"firehose":{"bufferSizeMiB":512}}');

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('loglake.firehose.bufferSizeMiB');
    expect(result.stderr).toContain('received 512');
  }, 180_000);

  it('fails naming the key when the deployment target is unknown', () => {
    const result = synth(outdir(), 'loglake:target=moon');

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('loglake:target');
    expect(result.stderr).toContain('"moon"');
  }, 180_000);
});
