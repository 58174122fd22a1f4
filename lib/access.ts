import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { rulesReadableWith } from '../src/alerts/config';
import type { PersonaGrant } from '../src/config';
import { pascalCase } from '../src/outputs';
import { ERROR_PREFIX, type Persona } from '../src/schema';
import type { LogLakeAccessRecorder } from './access-recorder';
import type { Alerting } from './alerting';
import type { LogLakeCatalog } from './catalog';
import type { LogLakeErasures } from './erasures';
import type { LogLakeIngest } from './ingest';
import { grantLakeQuery } from './private/lake-grants';
import { acknowledgeGrantWildcards } from './private/nag';
import { PolicyGrantee } from './private/policy-grantee';
import type { LogLakeQuery } from './query';
import type { LogLakeStorage } from './storage';
import type { LogLakeTrail } from './trail';

export interface LogLakeAccessProps {
  /** What each persona reads and writes. */
  readonly personas: Readonly<Record<Persona, PersonaGrant>>;
  /** The parts whose grant methods the persona and producer policies are built from. */
  readonly storage: LogLakeStorage;
  readonly catalog: LogLakeCatalog;
  readonly query: LogLakeQuery;
  readonly ingest: LogLakeIngest;
  /** Scheduled erasure: the privacy personas record and withdraw its requests. */
  readonly erasures?: LogLakeErasures;
  /**
   * Who may assume each persona role.
   * @default the account (any principal of this account that its own IAM policy allows to assume it)
   */
  readonly principals?: Partial<Record<Persona, iam.IPrincipal>>;
  /**
   * Personas that may export and erase a person's logs: their roles may read the lake key, look up and
   * destroy subject keys (and record the request's event through the recorder, as every persona records
   * its reads).
   * @default none
   */
  readonly privacyPersonas?: readonly Persona[];
  /**
   * The lake's CloudTrail trail: personas that read the `audit` category may query it too.
   * @default no trail
   */
  readonly trail?: LogLakeTrail;
  /**
   * The lake's alerting: each persona reads the state of the rules over the categories it reads.
   * @default no alerting
   */
  readonly alerting?: Alerting;
  /**
   * The access recorder: each persona may record its access and privacy events through it, and none may
   * put records on the audit stream itself.
   * @default no recorder: the personas cannot record events, so the CLI runs no Athena query for them
   */
  readonly recorder?: LogLakeAccessRecorder;
}

/**
 * IAM for people and producers: one role per persona that reads only its categories (S3 prefixes and
 * Glue tables) and queries only through its own Athena workgroup; a managed policy for producers that
 * allows nothing but PutRecord/PutRecordBatch on the streams; and bucket policies that keep everyone
 * but the security persona (and Firehose) out of the raw, unredacted error output.
 *
 * Every statement comes from a grant method of the part that owns the resource. "Write" on a category
 * (ops on runtime/framework by default) means S3 put and delete of objects under that category's prefix
 * in the logs bucket, for operational fixes such as removing a bad batch or re-delivering a repaired
 * one. It is never granted on the Object Lock bucket.
 */
export class LogLakeAccess extends Construct {
  readonly roles: Record<Persona, iam.Role>;
  readonly producerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LogLakeAccessProps) {
    super(scope, id);
    const personas = Object.keys(props.personas) as Persona[];
    this.roles = Object.fromEntries(personas.map((p) => [p, this.personaRole(p, props)])) as Record<
      Persona,
      iam.Role
    >;

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      description: 'loglake producers: put records on the delivery streams, nothing else',
    });
    props.ingest.grantPutRecords(new PolicyGrantee(this.producerPolicy));

    const errorReaders = [
      this.roles.security,
      ...Object.values(props.ingest.lanes).map((l) => l.deliveryRole),
    ].map((r) => r.roleArn);
    for (const bucket of Object.values(props.storage.dataBuckets)) {
      // Deny overrides any allow, including an administrator's; only the listed roles read raw bytes.
      bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ErrorOutputOnlyForSecurity',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:RestoreObject'],
          resources: [bucket.arnForObjects(`${ERROR_PREFIX}/*`)],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': errorReaders } },
        }),
      );
    }
  }

  private personaRole(persona: Persona, props: LogLakeAccessProps): iam.Role {
    const grant = props.personas[persona];
    const role = new iam.Role(this, `${pascalCase(persona)}Role`, {
      assumedBy: props.principals?.[persona] ?? new iam.AccountRootPrincipal(),
      description: `loglake ${persona}: reads ${grant.read.join(', ') || 'nothing'}${
        grant.write.length > 0 ? `; writes ${grant.write.join(', ')}` : ''
      }`,
    });
    const policy = new iam.ManagedPolicy(this, `${pascalCase(persona)}Policy`, {
      description: `loglake ${persona} persona`,
      roles: [role],
    });
    const grantee = new PolicyGrantee(policy, role);
    // Locked categories live in the Object Lock bucket, where nobody writes.
    const writable = grant.write.filter((c) => props.storage.placement[c] === 'logs');
    const grants = [
      grantLakeQuery(props, grantee, grant.read, persona),
      props.storage.grantWriteCategories(grantee, writable),
      // Raw user ids are pseudonymized with this key before a search by user; only security may. The
      // error output holds raw, unredacted bytes.
      // Searching by user also needs the subject keys, read-only.
      ...(persona === 'security'
        ? [
            props.ingest.grantReadPseudonymKey(grantee),
            props.storage.grantReadErrorOutput(grantee),
            props.ingest.subjectKeys.grantLookup(grantee),
          ]
        : []),
      // Who reads the access audit reads the trail of reads that bypass it.
      ...(props.trail && grant.read.includes('audit') ? [props.trail.grantRead(grantee)] : []),
      // A rule's state holds group keys and values of the records it watches: the explorer's alerts page
      // shows each persona the rules over its categories, and the policy allows no more.
      ...(props.alerting
        ? [props.alerting.grantReadRuleState(grantee, rulesReadableWith(props.alerting.rules, grant.read))]
        : []),
      ...(props.privacyPersonas?.includes(persona)
        ? [
            // security reads the lake and subject keys already (above).
            ...(persona === 'security'
              ? []
              : [props.ingest.grantReadPseudonymKey(grantee), props.ingest.subjectKeys.grantLookup(grantee)]),
            props.ingest.subjectKeys.grantErase(grantee),
            // Only they record, withdraw and read scheduled erasures (the executor closes them).
            ...(props.erasures ? [props.erasures.grantWriteRequests(grantee)] : []),
          ]
        : []),
      // The CLI records every read (and each export, erase and cancel) through the access recorder, which
      // writes it as the caller the function URL verified, and shows no results when it cannot: without
      // this a persona's role could run no query through loglake at all. Never PutRecord on the audit
      // stream: a role that may put there may put any event, naming anyone.
      ...(props.recorder ? [props.recorder.grantRecord(grantee)] : []),
    ];
    acknowledgeGrantWildcards(
      policy,
      'Object keys are chosen at delivery (Firehose) or query time (Athena); each wildcard is bounded by one category, error or query-results prefix.',
      ...grants,
    );
    return role;
  }
}
