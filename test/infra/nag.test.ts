import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { type SynthOptions, synthStack } from './helpers';

/** Every finding of both packs as `[rule id, construct path]`, acknowledged or not. */
function rawFindings(scope: IConstruct): Array<[string, string]> {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks()].flatMap((pack) => {
    // The packs consult acknowledgements in this one method; without it they report everything.
    Object.assign(pack, { isAcknowledged: () => false });
    return pack
      .validateScope(scope)
      .violations.flatMap((v) =>
        v.violatingResources.map((r): [string, string] => [v.ruleName, r.constructPath ?? '']),
      );
  });
}

/** Acknowledgements in the tree as `[construct path, rule id, reason]`. */
function acknowledgements(scope: IConstruct): Array<[string, string, unknown]> {
  const acks: Array<[string, string, unknown]> = [];
  const visit = (c: IConstruct) => {
    for (const m of c.node.metadata) {
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const [id, reason] of Object.entries(m.data as Record<string, unknown>))
          acks.push([c.node.path, id.replace(/^annotation::/i, ''), reason]);
      }
    }
    c.node.children.forEach(visit);
  };
  visit(scope);
  return acks;
}

function findings(scope: IConstruct): string[] {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks()].flatMap((pack) =>
    pack
      .validateScope(scope)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
      ),
  );
}

const VARIANTS: Record<string, SynthOptions> = {
  defaults: {},
  'emulator target': { target: 'emulator' },
  'COMPLIANCE lock, GZIP, long retention': {
    override: {
      objectLock: { mode: 'COMPLIANCE' },
      output: { compression: 'GZIP' },
      lambdaLogRetentionDays: 365,
    },
  },
  'no locked category (no audit lane)': {
    override: { categories: { security: { locked: false }, audit: { locked: false } } },
  },
  'CloudWatch Logs subscriptions and the account policy': {
    override: {
      sources: { cloudWatchLogs: { logGroups: ['/aws/lambda/orders'], accountPolicy: { enabled: true } } },
    },
  },
  'log groups subscribed by prefix (the subscriber function, its rule and custom resource)': {
    override: {
      sources: {
        cloudWatchLogs: {
          logGroupPrefixes: ['/aws/lambda/orders-', { prefix: '/ecs/', category: 'framework' }],
        },
      },
    },
  },
  'the CloudTrail trail (management events, Object Lock bucket)': {
    override: { accessAudit: { trail: { enabled: true } } },
  },
  'the CloudTrail trail without a locked category': {
    override: {
      accessAudit: { trail: { enabled: true, managementEvents: false } },
      categories: { security: { locked: false }, audit: { locked: false } },
    },
  },
  'access logs from S3 (ALB with a prefix, CloudFront)': {
    override: {
      sources: {
        accessLogs: [
          { bucket: 'elb-logs-123456789012', format: 'alb', prefix: 'AWSLogs/123456789012/' },
          { bucket: 'cf-logs-123456789012', format: 'cloudfront', category: 'api_access' },
        ],
      },
    },
  },
};

describe('cdk-nag gate (AwsSolutions, NIST 800-53 R5)', () => {
  for (const [name, options] of Object.entries(VARIANTS)) {
    it(`reports no unacknowledged finding for ${name}`, () => {
      const { stack } = synthStack(options);

      const result = findings(stack);

      expect(result).toEqual([]);
    });
  }

  it('fails synth of the app on a wildcard nobody reviewed', () => {
    const { app, stack } = synthStack();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
    const role = new iam.Role(stack, 'Unreviewed', { assumedBy: new iam.AccountRootPrincipal() });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));

    expect(findings(stack)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-IAM5\[Action::s3:\*\] at LogLake\/Unreviewed/),
      ]),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });

  it('synthesizes the app with both packs attached, as bin/app.ts does', () => {
    const { app } = synthStack();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));

    const assembly = app.synth();

    const types = Object.values(
      assembly.getStackByName('LogLake').template.Resources as Record<string, { Type: string }>,
    ).map((r) => r.Type);
    // logs, audit and the WAF stream
    expect(types.filter((t) => t === 'AWS::KinesisFirehose::DeliveryStream')).toHaveLength(3);
  });

  it('gives every acknowledgement a reason', () => {
    const { stack } = synthStack();

    const acks = acknowledgements(Stack.of(stack));

    expect(acks.length).toBeGreaterThan(10);
    for (const [path, id, reason] of acks) {
      expect(typeof reason === 'string' && reason.length >= 40, `${id} at ${path}`).toBe(true);
    }
  });

  for (const [name, options] of Object.entries(VARIANTS)) {
    it(`acknowledges only findings the covered resources really have, for ${name}`, () => {
      // An acknowledgement on a construct that has no such finding is a reason nobody checked: shared
      // code acknowledging for one caller (a DLQ rule on a function that has a DLQ), or a rule cdk-nag
      // already exempts.
      const { stack } = synthStack(options);
      const raw = rawFindings(stack);

      const unused = acknowledgements(stack)
        .filter(([, id]) => id.startsWith('AwsSolutions-') || id.startsWith('NIST.800.53.R5-'))
        .filter(
          ([path, id]) =>
            !raw.some(([rule, at]) => rule === id && (at === path || at.startsWith(`${path}/`))),
        )
        .map(([path, id]) => `${id} at ${path}`);

      expect(unused).toEqual([]);
    });
  }
});
