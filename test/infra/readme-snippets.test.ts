/**
 * The README's TypeScript construct snippets, as users copy them: type-checked with the repo's compiler
 * settings and synthesized, then the resources they promise asserted. `construct.ts` (the Construct API
 * section) runs as written; `sources.ts` (Logs AWS already has) is a constructor body, so it runs inside a
 * `Stack` subclass that declares the names it takes from the user's app (a function, a web ACL, a VPC, a
 * bucket). `loglake/constructs` resolves to `lib/index.ts` (the packed entry is `test/package`'s job).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeSnippet } from '../package/readme';
import { ROOT } from './helpers';

const ENTRY = path.join(ROOT, 'lib', 'index');
let dir: string;

/** The snippet with the package's entry point replaced by the source it is built from. */
function fromSource(name: string): string {
  const snippet = readmeSnippet(name);
  expect(snippet).toContain("from 'loglake/constructs'");
  return snippet.replaceAll("from 'loglake/constructs'", `from ${JSON.stringify(ENTRY)}`);
}

const SOURCES_PREAMBLE = `import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { LogLake } from 'loglake/constructs';

/** What the README's snippet takes from the user's own app. */
export class SourcesExample extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const ordersFunction = new lambda.Function(this, 'Orders', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    const webAcl = new wafv2.CfnWebACL(this, 'Acl', {
      defaultAction: { allow: {} },
      scope: 'REGIONAL',
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'acl', sampledRequestsEnabled: true },
    });
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const albLogsBucket = new s3.Bucket(this, 'AlbLogs');
`;

function write(name: string, code: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, code);
  return file;
}

/** Compiler errors of `files` under the repo's own settings (tsconfig.json), each as `file:line: message`. */
function typeErrors(files: string[]): string[] {
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  // One program for both: aws-cdk-lib's declarations are read once.
  const program = ts.createProgram(files, { ...options, noEmit: true });
  return files.flatMap((file) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `${path.basename(file)}:${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    }),
  );
}

let construct: string;
let sources: string;

beforeAll(() => {
  mkdirSync(path.join(ROOT, '.scratch'), { recursive: true });
  // Inside the checkout, so the snippets resolve aws-cdk-lib and constructs from its node_modules.
  dir = mkdtempSync(path.join(ROOT, '.scratch', 'readme-snippets-'));
  construct = write('construct.ts', `${fromSource('construct.ts')}\nexport { app, lake, stack };\n`);
  const body = readmeSnippet('sources.ts');
  const preamble = SOURCES_PREAMBLE.replace("from 'loglake/constructs'", `from ${JSON.stringify(ENTRY)}`);
  sources = write('sources.ts', `${preamble}${body.replace(/^/gm, '    ')}\n  }\n}\n`);
  // The snippet builds its own App: skip Lambda bundling through the context the CDK reads from the env.
  process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
});

afterAll(() => {
  delete process.env.CDK_CONTEXT_JSON;
  rmSync(dir, { recursive: true, force: true });
});

describe("the README's construct snippets", () => {
  it('type-check as written with the repo compiler settings', () => {
    expect(typeErrors([construct, sources])).toEqual([]);
  }, 120_000);

  it('Construct API: synthesizes the lake with the grants and the alarm it shows', async () => {
    const { stack } = (await import(construct)) as { stack: Stack };
    const t = Template.fromStack(stack);
    const statements = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(statements).toContain('firehose:PutRecordBatch');
    expect(statements).toContain('athena:StartQueryExecution');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryToS3.DataFreshness',
      Threshold: 600,
      Period: 300,
    });
    expect(JSON.stringify(t.findResources('AWS::KinesisFirehose::DeliveryStream'))).toContain('acme-logs');
  }, 120_000);

  it('Logs AWS already has: subscribes both log groups, logs the web ACL and the VPC to the lake, notifies on ALB logs', async () => {
    const { App } = await import('aws-cdk-lib');
    const { SourcesExample } = (await import(sources)) as {
      SourcesExample: new (scope: InstanceType<typeof App>, id: string) => Stack;
    };
    const t = Template.fromStack(new SourcesExample(new App(), 'Sources'));
    const filters = Object.values(t.findResources('AWS::Logs::SubscriptionFilter'));
    const groups = filters.map((f) => JSON.stringify(f.Properties.LogGroupName));
    expect(groups).toHaveLength(2);
    expect(groups).toContain('"aws-cloudtrail-logs-111122223333"');
    expect(groups.some((g) => g.includes('Orders'))).toBe(true);
    t.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
    t.hasResourceProperties('AWS::EC2::FlowLog', { LogDestinationType: 'kinesis-data-firehose' });
    const notifications = JSON.stringify(t.findResources('Custom::S3BucketNotifications'));
    expect(notifications).toContain('AWSLogs/111122223333/elasticloadbalancing/');
  }, 120_000);
});
