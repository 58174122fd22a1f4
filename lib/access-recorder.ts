import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ACCESS_RECORDER_ENV } from '../lambdas/access-recorder/constants';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { acknowledge } from './private/nag';

export interface LogLakeAccessRecorderProps {
  /** The delivery stream of the `audit` category: the only stream the recorder may put on. */
  readonly auditStream: firehose.IDeliveryStream;
  /** The lake's KMS key: the function's environment and log group. */
  readonly encryptionKey: kms.IKey;
  /** Days the recorder's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
}

/**
 * The access recorder: a function behind a Lambda function URL with `AWS_IAM` auth that puts the CLI's
 * access and privacy events on the audit stream with its own role, as the caller the URL verified
 * (`lambdas/access-recorder`, `src/audit/recorder.ts`). Personas get {@link grantRecord} instead of
 * `firehose:PutRecord` on the audit stream, so none of them can write an event naming someone else, or
 * anything but those events.
 */
export class LogLakeAccessRecorder extends Construct {
  readonly function: LogLakeFunction;
  /** The function URL (`AWS_IAM` auth) the CLI POSTs its signed events to. */
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: LogLakeAccessRecorderProps) {
    super(scope, id);
    this.function = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/access-recorder/index.ts',
      description:
        'loglake access recorder: puts the CLI access and privacy events on the audit stream as the verified caller',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.encryptionKey,
      memorySize: 256,
      // Firehose retries included (putAuditEvent); the CLI retries a timeout like any 5xx.
      timeout: Duration.seconds(30),
      environment: { [ACCESS_RECORDER_ENV.auditStream]: props.auditStream.deliveryStreamName },
    });
    this.url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    props.auditStream.grantPutRecords(this.function);

    acknowledge(
      this.function,
      'The recorder calls only Firehose (a regional AWS API); a VPC would add NAT or endpoint cost and no data path.',
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      this.function,
      'Invoked synchronously through its function URL only: a failure is the caller’s 5xx, which the CLI retries and then reports (the query shows no rows); a dead-letter queue applies to asynchronous invocations and would hold nothing.',
      'NIST.800.53.R5-LambdaDLQ',
    );
    acknowledge(
      this.function,
      'Callers are the persona roles only (IAM-authenticated); reserved concurrency would take from the account’s unreserved pool and can fail the deploy, and throttling is retried by the CLI.',
      'NIST.800.53.R5-LambdaConcurrency',
    );
  }

  /**
   * Record events through the function URL: `lambda:InvokeFunctionUrl` on this function when the URL's
   * auth type is `AWS_IAM`, and `lambda:InvokeFunction` only when invoked through the URL (Lambda asks
   * both of a function URL since October 2025). Never a direct invoke, whose event a caller could write
   * with any `authorizer` in it.
   */
  grantRecord(grantee: iam.IGrantable): iam.Grant {
    // Not `grantInvokeUrl`: it keeps one grant per principal's string form, and every persona policy
    // (a managed policy as grantee) has the same one, so only the first would get it.
    const resourceArns = [this.function.functionArn];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunctionUrl'],
      resourceArns,
      conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': lambda.FunctionUrlAuthType.AWS_IAM } },
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['lambda:InvokeFunction'],
        resourceArns,
        conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
      }),
    );
  }
}
