import { CfnMapping, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { LogLakeConfig } from '../src/config';
import type { DeploymentTarget } from './config';
import { LogLake } from './log-lake';
import { pascal } from './query';

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
    for (const [stream, lane] of Object.entries(lake.ingest.lanes)) {
      if (!lane) continue;
      out(
        `${pascal(stream)}StreamName`,
        lane.stream.deliveryStreamName,
        `Firehose delivery stream "${stream}"`,
      );
    }
    for (const [stream, bucket] of Object.entries(lake.storage.dataBuckets)) {
      if (!bucket) continue;
      out(`${pascal(stream)}BucketName`, bucket.bucketName, `S3 bucket of the ${stream} stream`);
    }
    out('QueryResultsBucketName', lake.storage.resultsBucket.bucketName, 'Athena query results');
    out('AccessLogsBucketName', lake.storage.accessLogsBucket.bucketName, 'S3 server access logs');
    out('WorkGroupName', lake.query.workGroup.name, 'Athena workgroup (operators, scheduled jobs)');
    for (const [persona, wg] of Object.entries(lake.query.personaWorkGroups)) {
      if (!wg) continue;
      out(`${pascal(persona)}WorkGroupName`, wg.name, `Athena workgroup of the ${persona} persona`);
    }
    out('DatabaseName', lake.catalog.databaseName, 'Glue database');
    for (const [stream, table] of Object.entries(lake.catalog.tables)) {
      if (!table) continue;
      out(`${pascal(stream)}TableName`, stream, `Glue table of the ${stream} stream`);
    }
    for (const [persona, role] of Object.entries(lake.access.roles)) {
      out(`${pascal(persona)}RoleArn`, role.roleArn, `IAM role of the ${persona} persona`);
    }
    out('ProducerPolicyArn', lake.access.producerPolicy.managedPolicyArn, 'Attach to log producers');
    out('PseudonymSecretArn', lake.ingest.pseudonymSecret.secretArn, 'HMAC key of user-id pseudonyms');
    for (const [severity, topic] of Object.entries(lake.alerting?.topics ?? {})) {
      out(
        `${pascal(severity)}AlertTopicArn`,
        topic.topicArn,
        `SNS topic of ${severity} alerts: subscribe email, chat or paging here`,
      );
    }
    out('KeyArn', lake.key.keyArn, 'KMS key of the lake');
  }
}
