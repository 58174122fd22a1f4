/**
 * AWS CloudTrail events (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html),
 * as a trail delivers them to CloudWatch Logs: one event per log event. Every field is kept under
 * CloudTrail's own names (`eventName`, `eventSource`, `userIdentity.arn`, `userIdentity.type`,
 * `sourceIPAddress` — anonymized by redaction like every address —, `errorCode`).
 *
 * Level and category choices:
 * - a failed console login and an access-denied error are WARN; any other `errorCode` is INFO with the
 *   code as `error_type` (NoSuchEntity, throttling: an API call's normal answer, not the lake's error);
 * - console logins, changes to IAM, KMS and STS federation, and access-denied errors are marked
 *   `event.security` (the `security` category by the default rules); the rest are categorized by the
 *   rules as any event (by default `runtime`).
 */
import { type BatchShape, isObject, type Json, type ProducerShape } from '../producers/shape';

/** Services whose every write is a security event. */
const SECURITY_SOURCES = new Set([
  'iam.amazonaws.com',
  'kms.amazonaws.com',
  'sts.amazonaws.com',
  'signin.amazonaws.com',
  'sso.amazonaws.com',
  'organizations.amazonaws.com',
]);
const ACCESS_DENIED = /AccessDenied|UnauthorizedOperation|Unauthorized|Forbidden/i;
/** A read: `readOnly` when CloudTrail says so, else by the verb. */
const READ_VERB = /^(?:Get|List|Describe|Head|Lookup|BatchGet|Search)/;

function isRead(o: Json): boolean {
  if (typeof o.readOnly === 'boolean') return o.readOnly;
  return typeof o.eventName === 'string' && READ_VERB.test(o.eventName);
}

export const awsCloudTrail: ProducerShape = {
  name: 'aws-cloudtrail',
  matches: (o) =>
    typeof o.eventVersion === 'string' &&
    typeof o.eventSource === 'string' &&
    typeof o.eventName === 'string' &&
    'eventTime' in o,
  read(o) {
    const source = o.eventSource as string;
    const name = o.eventName as string;
    const errorCode = typeof o.errorCode === 'string' ? o.errorCode : undefined;
    const login = name === 'ConsoleLogin';
    const loginResult =
      login && isObject(o.responseElements) && typeof o.responseElements.ConsoleLogin === 'string'
        ? o.responseElements.ConsoleLogin
        : undefined;
    const denied = errorCode !== undefined && ACCESS_DENIED.test(errorCode);
    const security = login || denied || (SECURITY_SOURCES.has(source) && !isRead(o));
    // A rest pattern, not a copy and `delete`: deleting a property turns an object into a slow dictionary.
    const { eventTime: _eventTime, ...rest }: Json = o;
    if (security) rest['event.security'] = 'true';
    const identity = isObject(o.userIdentity) ? o.userIdentity : undefined;
    const who = identity?.arn ?? identity?.type;
    const outcome = loginResult ?? errorCode;
    return {
      columns: {
        timestamp: o.eventTime,
        level: denied || loginResult === 'Failure' ? 'WARN' : 'INFO',
        service: 'aws.cloudtrail',
        message: `${source.replace(/\.amazonaws\.com$/, '')}:${name}${outcome === undefined ? '' : ` ${outcome}`}${typeof who === 'string' ? ` by ${who}` : ''}`,
        ...(typeof o.requestID === 'string' ? { correlation_id: o.requestID } : {}),
        ...(errorCode !== undefined ? { error_type: errorCode } : {}),
      },
      rest,
    };
  },
};

/** A CloudTrail log file as a trail writes it to S3 (`{"Records":[…]}`): one event per record. */
export const cloudTrailFile: BatchShape = {
  name: 'aws-cloudtrail-file',
  matches: (o) => {
    const records = o.Records;
    return (
      Array.isArray(records) && records.length > 0 && isObject(records[0]) && 'eventVersion' in records[0]
    );
  },
  expand: (o) => (o.Records as unknown[]).filter(isObject),
};
