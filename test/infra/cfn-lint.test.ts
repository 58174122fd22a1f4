import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogLakeStack } from '../../lib/stack';
import { resolveConfig } from '../../src/config';
import { cdkJsonContext, ROOT } from './helpers';
import { ensureVenv, run } from './tools';

const VARIANTS = {
  Default: { config: {}, target: 'aws' },
  Emulator: { config: {}, target: 'emulator' },
  // With the AWS sources: subscription filters and the account-level subscription filter policy.
  Compliance: {
    config: {
      objectLock: { mode: 'COMPLIANCE', retentionDays: 90 },
      sources: {
        cloudWatchLogs: {
          logGroups: ['/aws/lambda/orders', { name: '/ecs/api', filterPattern: 'ERROR', category: 'errors' }],
          accountPolicy: { enabled: true, exclude: ['/noisy/group'] },
          // The subscriber function, its EventBridge rule and its custom resource.
          logGroupPrefixes: [
            '/aws/lambda/orders-',
            { prefix: '/ecs/', filterPattern: 'ERROR', category: 'errors' },
          ],
        },
        // The access-log reader function, its S3 notifications, queue and dead-letter queue.
        accessLogs: [
          { bucket: 'elb-logs-123456789012', format: 'alb', prefix: 'AWSLogs/123456789012/' },
          { bucket: 'cf-logs-123456789012', format: 'cloudfront', category: 'api_access' },
          { bucket: 's3-logs-123456789012', format: 's3' },
        ],
      },
      // The CloudTrail trail, its bucket and key policies and its Glue table.
      accessAudit: { trail: { enabled: true } },
    },
    target: 'aws',
  },
  NoLocked: {
    config: {
      categories: { security: { locked: false }, audit: { locked: false } },
      accessAudit: { trail: { enabled: true, managementEvents: false } },
    },
    target: 'aws',
  },
} as const;

describe('cfn-lint', () => {
  let outdir: string;

  beforeAll(() => {
    ensureVenv();
    outdir = mkdtempSync(path.join(tmpdir(), 'loglake-cfnlint-'));
    const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    for (const [id, v] of Object.entries(VARIANTS)) {
      new LogLakeStack(app, id, { config: resolveConfig(v.config), target: v.target });
    }
    app.synth();
  }, 300_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('passes on every synthesized template variant', () => {
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(outdir, f));
    expect(templates).toHaveLength(Object.keys(VARIANTS).length);

    const result = run(path.join(ROOT, '.venv/bin/cfn-lint'), ['--', ...templates]);

    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
    // cfn-lint takes ~30 s over the four templates alone, several times that beside other tests.
  }, 300_000);

  it('fails on a template it should reject', () => {
    const bad = path.join(outdir, 'Bad.template.json');
    writeFileSync(
      bad,
      JSON.stringify({
        Resources: {
          B: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'On' } } },
        },
      }),
    );

    const result = run(path.join(ROOT, '.venv/bin/cfn-lint'), ['--', bad]);

    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/E3030|'On' is not one of/);
  });
});
