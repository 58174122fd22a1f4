import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PACKAGE_ROOT } from '../src/package-root';
import { acknowledge } from './private/nag';

/** Package root (also from the compiled `dist/lib/`): entries, the lock file and esbuild are resolved from here. */
const PROJECT_ROOT = PACKAGE_ROOT;

/** Retention values CloudWatch Logs accepts and the config model allows. */
export type LogRetentionDays = 1 | 3 | 5 | 7 | 14 | 30 | 60 | 90 | 180 | 365;

/**
 * What {@link LogLakeFunction} fixes for every function, so a caller cannot set it: the runtime and
 * architecture, where the code comes from and how it is bundled, the log group (and the retention
 * custom resource it replaces), and the key of the environment (always `encryptionKey`).
 */
type FixedByTeam =
  | 'runtime'
  | 'architecture'
  | 'entry'
  | 'handler'
  | 'code'
  | 'projectRoot'
  | 'depsLockFilePath'
  | 'bundling'
  | 'logGroup'
  | 'logRetention'
  | 'logRetentionRole'
  | 'logRetentionRetryOptions'
  | 'environmentEncryption';

export interface LogLakeFunctionProps extends Omit<NodejsFunctionProps, FixedByTeam> {
  /** Handler file relative to the repository root, e.g. `lambdas/transform/index.ts`; it exports `handler`. */
  readonly entry: string;
  /** Required here: it names the function in its role's description too. */
  readonly description: string;
  /** Days the function's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
  /** Key encrypting the function's log group and environment. */
  readonly encryptionKey: kms.IKey;
  /**
   * Removal policy of the function's log group.
   * @default RemovalPolicy.DESTROY (the function's own diagnostics, not lake data)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * @default 1024 MB (arm64 gets proportional CPU; the transform is CPU-bound JSON and regex work)
   */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * @default a role that may write only to the function's own log group (no AWSLambdaBasicExecutionRole)
   */
  readonly role?: iam.IRole;
}

/**
 * The team's Lambda defaults in one place: Node.js 24 on arm64, esbuild bundling on the host (never
 * Docker), an explicit KMS-encrypted log group with retention (no `logRetention` custom resource), and
 * a role that may write only to that log group instead of the broad AWSLambdaBasicExecutionRole. Every
 * other function option (dead-letter queue, retries, concurrency, VPC, layers…) is the caller's.
 *
 * Findings whose answer depends on how a function is invoked and what it calls (VPC, dead-letter queue,
 * reserved concurrency) are acknowledged where the function is created, with that function's reason.
 */
export class LogLakeFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: LogLakeFunctionProps) {
    const { entry, logRetentionDays, encryptionKey, logRemovalPolicy, ...functionProps } = props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetentionDays as logs.RetentionDays,
      encryptionKey,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role =
      props.role ??
      new iam.Role(scope, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${props.description}`,
      });
    super(scope, id, {
      ...functionProps,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(1),
      ...handlerCode(entry),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      environmentEncryption: encryptionKey,
      logGroup,
      role,
    });
    logGroup.grantWrite(role);
    if (!props.role) {
      acknowledge(
        role,
        'Grant-generated policy bound to this one role and its own resources; a managed policy could be attached elsewhere.',
        'NIST.800.53.R5-IAMNoInlinePolicy',
      );
    }
  }
}

/**
 * Where the published package carries an entry's handler, bundled at pack time with the same options
 * (`scripts/build.ts`): `lambdas/transform/index.ts` → `dist/bundles/lambdas/transform/index.js`.
 */
function prebundledHandlerDir(entry: string): string {
  return path.join(PROJECT_ROOT, 'dist', 'bundles', path.dirname(entry));
}

/**
 * The code of an entry: bundled from its TypeScript source with esbuild when the source is there (a
 * checkout), else the handler pre-bundled into the package, so an installed package synthesizes
 * without the sources, a lock file or esbuild.
 */
function handlerCode(
  entry: string,
): Pick<NodejsFunctionProps, 'entry' | 'projectRoot' | 'depsLockFilePath' | 'bundling' | 'code' | 'handler'> {
  const source = path.join(PROJECT_ROOT, entry);
  if (existsSync(source)) {
    return {
      entry: source,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
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
    };
  }
  const bundled = prebundledHandlerDir(entry);
  const file = `${path.basename(entry, path.extname(entry))}.js`;
  if (!existsSync(path.join(bundled, file))) {
    throw new Error(
      `LogLakeFunction: neither ${source} nor its pre-bundled ${path.join(bundled, file)} exists`,
    );
  }
  return { code: lambda.Code.fromAsset(bundled), handler: `${path.basename(file, '.js')}.handler` };
}
