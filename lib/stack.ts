import { CfnMapping, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { LogLakeConfig } from '../src/config';
import {
  alertTopicOutput,
  bucketOutput,
  personaRoleOutput,
  personaWorkGroupOutput,
  STACK_OUTPUTS,
  streamOutput,
  tableOutput,
} from '../src/outputs';
import type { Persona, StreamName } from '../src/schema';
import type { DeploymentTarget } from './config';
import type { IngestLane } from './ingest';
import { LogLake } from './log-lake';
import { TRAIL_TABLE } from './trail';

const FIREHOSE_CIDR_MAPPING_SUFFIX = 'aws-kinesisfirehose.CidrBlocks';

export interface LogLakeStackProps extends StackProps {
  /** The validated configuration (see `configFromContext`). */
  readonly config: LogLakeConfig;
  /** @default 'aws' */
  readonly target?: DeploymentTarget;
}

/**
 * The ready-to-deploy stack: one {@link LogLake} plus outputs naming everything a producer, the
 * `loglake` CLI or an operator needs (streams, buckets, workgroups, database, tables, roles, alert topics).
 */
export class LogLakeStack extends Stack {
  readonly lake: LogLake;

  constructor(scope: Construct, id: string, props: LogLakeStackProps) {
    super(scope, id, {
      description: 'loglake: serverless log lake (Firehose, Lambda transform, Parquet on S3, Glue, Athena)',
      ...props,
    });
    const lake = new LogLake(this, 'LogLake', { config: props.config, target: props.target });
    this.lake = lake;
    // The Firehose L2 adds a region → CIDR mapping for Redshift/Splunk destinations. This stack has
    // none, and an unused mapping is a template lint warning (W7001); no other construct can use it.
    for (const child of this.node.children) {
      if (child instanceof CfnMapping && child.node.id.endsWith(FIREHOSE_CIDR_MAPPING_SUFFIX)) {
        this.node.tryRemoveChild(child.node.id);
      }
    }

    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    for (const [stream, lane] of Object.entries(lake.ingest.lanes) as [
      StreamName,
      IngestLane | undefined,
    ][]) {
      if (lane)
        out(streamOutput(stream), lane.stream.deliveryStreamName, `Firehose delivery stream "${stream}"`);
    }
    for (const [stream, bucket] of Object.entries(lake.storage.dataBuckets) as [
      StreamName,
      s3.IBucket | undefined,
    ][]) {
      if (bucket) out(bucketOutput(stream), bucket.bucketName, `S3 bucket of the ${stream} stream`);
    }
    out(STACK_OUTPUTS.queryResultsBucket, lake.storage.resultsBucket.bucketName, 'Athena query results');
    out(STACK_OUTPUTS.accessLogsBucket, lake.storage.accessLogsBucket.bucketName, 'S3 server access logs');
    out(STACK_OUTPUTS.workGroup, lake.query.workGroup.name, 'Athena workgroup (operators, scheduled jobs)');
    for (const [persona, wg] of Object.entries(lake.query.personaWorkGroups) as [
      Persona,
      { name: string } | undefined,
    ][]) {
      if (wg) out(personaWorkGroupOutput(persona), wg.name, `Athena workgroup of the ${persona} persona`);
    }
    out(STACK_OUTPUTS.database, lake.catalog.databaseName, 'Glue database');
    for (const stream of Object.keys(lake.catalog.tables) as StreamName[]) {
      out(tableOutput(stream), stream, `Glue table of the ${stream} stream`);
    }
    for (const [persona, role] of Object.entries(lake.access.roles) as [Persona, iam.IRole][]) {
      out(personaRoleOutput(persona), role.roleArn, `IAM role of the ${persona} persona`);
    }
    out(STACK_OUTPUTS.producerPolicy, lake.access.producerPolicy.managedPolicyArn, 'Attach to log producers');
    out(
      STACK_OUTPUTS.pseudonymSecret,
      lake.ingest.pseudonymSecret.secretArn,
      'HMAC key of user-id pseudonyms',
    );
    out(
      STACK_OUTPUTS.subjectKeyTable,
      lake.ingest.subjectKeys.table.tableName,
      'DynamoDB table of per-subject pseudonym keys (erasure)',
    );
    out(
      STACK_OUTPUTS.subjectRequestTable,
      lake.erasures.requestTable.tableName,
      'DynamoDB table of scheduled erasure requests (subject erase --after)',
    );
    for (const [severity, topic] of Object.entries(lake.alerting?.topics ?? {})) {
      out(
        alertTopicOutput(severity),
        topic.topicArn,
        `SNS topic of ${severity} alerts: subscribe email, chat or paging here`,
      );
    }
    if (lake.alerting) {
      out(
        alertTopicOutput('security'),
        lake.alerting.securityTopic.topicArn,
        'SNS topic of security alerts (bulk reads of the lake, CRITICAL security events): subscribe the security team here',
      );
      out(
        STACK_OUTPUTS.alertStateTable,
        lake.alerting.table.tableName,
        'DynamoDB table of the alert rules’ state (the explorer’s alerts page, compliance-report --stack)',
      );
    }
    out(STACK_OUTPUTS.key, lake.key.keyArn, 'KMS key of the lake');
    // MiniStack serves function URLs without the verified caller (`requestContext.authorizer.iam`), so
    // its recorder would refuse every event: without the output the CLI writes to the audit stream, as
    // for a stack deployed before the recorder.
    if (lake.accessRecorder && props.target !== 'emulator') {
      out(
        STACK_OUTPUTS.accessRecorderUrl,
        lake.accessRecorder.url.url,
        'Function URL (AWS_IAM auth) where the CLI records access and privacy events',
      );
    }
    if (lake.trail) {
      out(
        STACK_OUTPUTS.trailTable,
        TRAIL_TABLE,
        'Glue table of the CloudTrail trail over the lake (same database)',
      );
    }
  }
}
