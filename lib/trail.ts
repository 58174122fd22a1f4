import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { combineGrants, grantKeyVia, grantReadPrefixes } from './private/grants';
import { acknowledge } from './private/nag';

/** Where the trail writes, below the destination bucket. */
export const TRAIL_PREFIX = 'cloudtrail';
/** Name of the trail's Glue table in the lake's database. */
export const TRAIL_TABLE = 'cloudtrail';

/** S3 object-level operations that change or remove what the lake holds (writes by delivery excluded). */
const CHANGING_OPERATIONS = [
  'DeleteObject',
  'DeleteObjects',
  'PutObjectRetention',
  'PutObjectLegalHold',
  'PutObjectAcl',
  'RestoreObject',
];

export interface LogLakeTrailProps {
  /** Trail name. */
  readonly trailName: string;
  /** The bucket the trail delivers to (the Object Lock bucket when the lake has one). */
  readonly bucket: s3.Bucket;
  /** The lake key: encrypts the trail's files. */
  readonly encryptionKey: kms.Key;
  /** Buckets whose object reads, deletions and lock changes are recorded. */
  readonly watchedBuckets: readonly s3.IBucket[];
  /** Record the region's management events too (Athena, Glue, IAM …; KMS's own are left out). */
  readonly managementEvents: boolean;
  /** Glue database of the lake, where the trail's table goes. */
  readonly databaseName: string;
  /** Days a trail file is kept (then expired by a lifecycle rule), and the table's projection range. */
  readonly retentionDays: number;
}

/**
 * A CloudTrail trail recording who reads the lake outside loglake's own access audit: S3 data events on
 * the lake's buckets through advanced event selectors (every object read; deletions and lock or ACL
 * changes — not the delivery streams' writes, which would only mirror the delivered objects), and
 * optionally the region's management events (Athena, Glue, IAM, …; KMS's own are excluded: the lake's
 * own deliveries call KMS all the time). Files go KMS-encrypted, with log file validation, under
 * `cloudtrail/` of the destination bucket (in the Object Lock bucket they are locked like audit records)
 * and are queryable in Athena through a Glue table with partition projection.
 *
 * The trail is not fed into the lake's own streams: every delivery and every query would then create
 * events that are delivered and queried again, a lake feeding on itself.
 */
export class LogLakeTrail extends Construct {
  readonly trail: cloudtrail.CfnTrail;
  readonly table: glue.CfnTable;
  private readonly bucket: s3.IBucket;
  private readonly encryptionKey: kms.IKey;
  private readonly databaseName: string;

  constructor(scope: Construct, id: string, props: LogLakeTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = props.bucket;
    this.encryptionKey = props.encryptionKey;
    this.databaseName = props.databaseName;
    const trailArn = stack.formatArn({
      service: 'cloudtrail',
      resource: 'trail',
      resourceName: props.trailName,
    });
    const principal = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    // Confused deputy: CloudTrail may write here, and use the key, only for this trail.
    const fromThisTrail = { StringEquals: { 'aws:SourceArn': trailArn } };

    const aclCheck = props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailAclCheck',
        principals: [principal],
        actions: ['s3:GetBucketAcl'],
        resources: [props.bucket.bucketArn],
        conditions: fromThisTrail,
      }),
    );
    const write = props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailWrite',
        principals: [principal],
        actions: ['s3:PutObject'],
        resources: [props.bucket.arnForObjects(`${TRAIL_PREFIX}/AWSLogs/${Aws.ACCOUNT_ID}/*`)],
        conditions: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn },
        },
      }),
    );
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailEncryptsThisTrail',
        principals: [principal],
        actions: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ...fromThisTrail,
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': trailArn },
        },
      }),
    );

    props.bucket.addLifecycleRule({
      id: 'CloudTrail',
      prefix: `${TRAIL_PREFIX}/`,
      expiration: Duration.days(props.retentionDays),
    });

    const objects = props.watchedBuckets.map((b) => `${b.bucketArn}/`);
    const s3Objects = [
      { field: 'eventCategory', equalTo: ['Data'] },
      { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
      { field: 'resources.ARN', startsWith: objects },
    ];
    this.trail = new cloudtrail.CfnTrail(this, 'Trail', {
      trailName: props.trailName,
      isLogging: true,
      s3BucketName: props.bucket.bucketName,
      s3KeyPrefix: TRAIL_PREFIX,
      kmsKeyId: props.encryptionKey.keyArn,
      enableLogFileValidation: true,
      // S3 data events and the lake's Athena and Glue calls are regional, like the lake.
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      advancedEventSelectors: [
        {
          name: 'Reads of the lake objects',
          fieldSelectors: [...s3Objects, { field: 'readOnly', equalTo: ['true'] }],
        },
        {
          name: 'Deletions and lock changes of the lake objects',
          fieldSelectors: [...s3Objects, { field: 'eventName', equalTo: CHANGING_OPERATIONS }],
        },
        ...(props.managementEvents
          ? [
              {
                name: 'Management events without KMS',
                fieldSelectors: [
                  { field: 'eventCategory', equalTo: ['Management'] },
                  { field: 'eventSource', notEquals: ['kms.amazonaws.com'] },
                ],
              },
            ]
          : []),
      ],
    });
    // CloudTrail checks the bucket policy when the trail is created.
    for (const added of [aclCheck, write]) {
      if (added.policyDependable) this.trail.node.addDependency(added.policyDependable);
    }
    acknowledge(
      this.trail,
      'The trail delivers to the Object Lock bucket and is queried with Athena (its Glue table); a CloudWatch Logs copy would double its cost, and feeding it to the lake would make the lake record its own deliveries and queries.',
      'NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled',
    );

    const location = `s3://${props.bucket.bucketName}/${TRAIL_PREFIX}/AWSLogs/${Aws.ACCOUNT_ID}/CloudTrail/${Aws.REGION}/`;
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: props.databaseName,
      tableInput: {
        name: TRAIL_TABLE,
        description: `CloudTrail trail ${props.trailName}: reads and changes of the lake objects, management events`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'cloudtrail',
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy/MM/dd',
          'projection.day.range': `NOW-${props.retentionDays}DAYS,NOW+1DAYS`,
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
          'storage.location.template': `${location}\${day}/`,
        },
        partitionKeys: [{ name: 'day', type: 'string', comment: 'yyyy/MM/dd of delivery (UTC)' }],
        storageDescriptor: {
          location,
          columns: [{ name: TRAIL_RECORDS_COLUMN, type: TRAIL_RECORDS_TYPE, comment: TRAIL_RECORDS_COMMENT }],
          // A delivered file is one gzipped JSON document on one line (`{"Records":[…]}`): a text file
          // the OpenX JSON SerDe reads as one row, decompressed by its `.gz` name. Athena documents this
          // SerDe (https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html: keys matched
          // case-insensitively by default, so `Records` and `eventName` fill `records` and `eventname`),
          // and Trino's Hive connector reads it (format OPENX_JSON), unlike the CloudTrail input format
          // of Athena's own CloudTrail table, which Trino does not have. An object under a `string` field
          // (requestParameters, responseElements, …) reads as its JSON text: test/trino/cloudtrail.test.ts.
          // Not the Hive JSON SerDe: on Trino 476 it fails the whole file on such an object. Athena's page
          // warns that OpenX results "can be non-deterministic" in some cases; no such case is known here.
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
        },
      },
    });
  }

  /** Query the trail's table: read its files (decrypting through S3 only) and its Glue table. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return combineGrants(grantee, 'read the trail', [
      grantReadPrefixes(grantee, this.bucket, [`${TRAIL_PREFIX}/`]),
      grantKeyVia(grantee, this.encryptionKey, 's3', ['kms:Decrypt']),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
        resourceArns: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
          stack.formatArn({
            service: 'glue',
            resource: 'table',
            resourceName: `${this.databaseName}/${TRAIL_TABLE}`,
          }),
        ],
      }),
    ]);
  }
}

/**
 * The CloudTrail record's top-level fields, as Athena's documented CloudTrail table declares them
 * (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html), lower case.
 */
const TRAIL_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['eventversion', 'string'],
  [
    'useridentity',
    'struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,onbehalfof:struct<userid:string,identitystorearn:string>,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,sourceidentity:string,ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>',
  ],
  ['eventtime', 'string'],
  ['eventsource', 'string'],
  ['eventname', 'string'],
  ['awsregion', 'string'],
  ['sourceipaddress', 'string'],
  ['useragent', 'string'],
  ['errorcode', 'string'],
  ['errormessage', 'string'],
  ['requestparameters', 'string'],
  ['responseelements', 'string'],
  ['additionaleventdata', 'string'],
  ['requestid', 'string'],
  ['eventid', 'string'],
  ['readonly', 'string'],
  ['resources', 'array<struct<arn:string,accountid:string,type:string>>'],
  ['eventtype', 'string'],
  ['apiversion', 'string'],
  ['recipientaccountid', 'string'],
  ['serviceeventdetails', 'string'],
  ['sharedeventid', 'string'],
  ['vpcendpointid', 'string'],
  ['eventcategory', 'string'],
  ['tlsdetails', 'struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>'],
];

/** The table's one column: the file's `Records`, one element per event (`CROSS JOIN UNNEST(records)`). */
export const TRAIL_RECORDS_COLUMN = 'records';
const TRAIL_RECORDS_TYPE = `array<struct<${TRAIL_COLUMNS.map(([name, type]) => `${name}:${type}`).join(',')}>>`;
const TRAIL_RECORDS_COMMENT =
  'the events of one delivered file; query them with CROSS JOIN UNNEST(records) AS r';
