import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';

/** Repository root: entries, the lock file and esbuild are resolved from here. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Retention values CloudWatch Logs accepts and the config model allows. */
export type LogRetentionDays = 1 | 3 | 5 | 7 | 14 | 30 | 60 | 90 | 180 | 365;

export interface LogLakeFunctionProps {
  /** Handler file relative to the repository root, e.g. `lambdas/transform/index.ts`; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Days the function's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
  /** Key encrypting the function's log group and environment. */
  readonly encryptionKey: kms.IKey;
  /** @default no variables besides those Lambda sets */
  readonly environment?: Record<string, string>;
  /** @default 1024 (arm64 gets proportional CPU; the transform is CPU-bound JSON + regex work) */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default RemovalPolicy.DESTROY for the log group (the function's own diagnostics, not lake data) */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The team's Lambda defaults in one place: Node.js 24 on arm64, esbuild bundling on the host (never
 * Docker), an explicit KMS-encrypted log group with retention (no `logRetention` custom resource), and
 * a role that may write only to that log group instead of the broad AWSLambdaBasicExecutionRole.
 *
 * Findings whose answer depends on how a function is invoked and what it calls (VPC, dead-letter queue,
 * reserved concurrency) are acknowledged where the function is created, with that function's reason.
 */
export class LogLakeFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: LogLakeFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(1),
      description: props.description,
      environment: props.environment,
      environmentEncryption: props.encryptionKey,
      logGroup,
      role,
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // The runtime's bundled SDK lags releases; shipping ours pins the exact client the tests ran.
        externalModules: [],
        environment: { NODE_OPTIONS: '--enable-source-maps' },
      },
    });
    logGroup.grantWrite(role);
    acknowledge(
      role,
      'Grant-generated policy bound to this one role and its own resources; a managed policy could be attached elsewhere.',
      'NIST.800.53.R5-IAMNoInlinePolicy',
    );
  }
}
