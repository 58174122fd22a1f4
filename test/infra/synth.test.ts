import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

describe('cdk synth (the real CLI, bundling included)', () => {
  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it('synthesizes with no credentials, no lookups, nag and bundling on', () => {
    const out = outdir();

    const result = run(
      CDK,
      [
        'synth',
        '-q',
        '--no-notices',
        '--output',
        out,
        '-c',
        'loglake={"categories":{"debug":{"expiryDays":7}}}',
      ],
      envWithoutAws(),
    );

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
    const assets = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    // Two transform functions and the alarm Lambda.
    expect(assets).toHaveLength(3);
  }, 180_000);

  it('fails with a message naming the field and the value when the config is invalid', () => {
    const result = run(
      CDK,
      [
        'synth',
        '-q',
        '--no-notices',
        '--output',
        outdir(),
        '-c',
        'loglake={"firehose":{"bufferSizeMiB":512}}',
      ],
      envWithoutAws(),
    );

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('loglake.firehose.bufferSizeMiB');
    expect(result.stderr).toContain('received 512');
  }, 180_000);

  it('fails naming the key when the deployment target is unknown', () => {
    const result = run(
      CDK,
      ['synth', '-q', '--no-notices', '--output', outdir(), '-c', 'loglake:target=moon'],
      envWithoutAws(),
    );

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('loglake:target');
    expect(result.stderr).toContain('"moon"');
  }, 180_000);
});
