import { Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import { Construct, type IConstruct } from 'constructs';
import type { Category } from '../src/schema';
import type { LogGroupPrefix, SourcesConfig } from '../src/sources/config';
import { subscriptionFilterName } from '../src/sources/names';
import type { LogRetentionDays } from './function';
import { LogLakePrefixSubscriptions } from './prefix-subscriptions';
import { acknowledge } from './private/nag';
import { canonical, mayStartWith, ownLogGroupNameHeads, ownLogGroupNames } from './private/own-log-groups';

/** Options of {@link LogLakeSubscriptions.subscribe} (and `LogLake.subscribe`). */
export interface SubscribeOptions {
  /**
   * CloudWatch Logs filter pattern: only matching events are sent.
   * @default every event
   */
  readonly filterPattern?: logs.IFilterPattern;
  /**
   * Put every event of the log group in this category (an event's own valid `category` field still
   * wins). The category travels in the subscription filter's name (`src/sources/names.ts`).
   * @default categorized by the rules, as any event
   */
  readonly category?: Category;
}

export interface LogLakeSubscriptionsProps {
  /** The lake's name: prefix of the filter and policy names. */
  readonly name: string;
  /** The delivery stream CloudWatch Logs puts events on (the lake's `logs` stream). */
  readonly stream: firehose.IDeliveryStream;
  /** Every delivery stream of the lake: no log group of `lake` may be subscribed to one of them. */
  readonly lakeStreams: () => readonly firehose.IDeliveryStream[];
  /** The construct whose log groups are the lake's own (never subscribed). */
  readonly lake: IConstruct;
  /** The account-level subscription filter policy, if enabled. */
  readonly accountPolicy?: SourcesConfig['cloudWatchLogs']['accountPolicy'];
}

/**
 * CloudWatch Logs into the lake: subscription filters on log groups, and optionally one account-level
 * subscription filter policy, all putting events on the `logs` stream through one role CloudWatch Logs
 * assumes. The role trusts `logs.amazonaws.com` only for this account's log groups in this region
 * (`aws:SourceAccount`, `aws:SourceArn`: no other account can make CloudWatch Logs write into the lake
 * with it) and may only put records on that one stream. No KMS grant is needed: Firehose encrypts the
 * stream with the lake key itself, and CloudWatch Logs reads an encrypted log group with its own grant.
 *
 * The lake's own log groups are never subscribed: `subscribe` refuses them, the account policy excludes
 * them by name, and a synth-time validation fails any subscription filter or account policy (made here
 * or anywhere in the stack) that would send one of them to a lake stream.
 */
export class LogLakeSubscriptions extends Construct {
  /** The role CloudWatch Logs assumes to put records. */
  readonly role: iam.Role;
  /** The account-level policy, when enabled. */
  readonly accountPolicy?: logs.CfnAccountPolicy;
  /** The log groups subscribed by name prefix, when any prefix is configured (`subscribePrefixes`). */
  prefixes?: LogLakePrefixSubscriptions;
  private readonly props: LogLakeSubscriptionsProps;

  constructor(scope: Construct, id: string, props: LogLakeSubscriptionsProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'CloudWatchLogsRole', {
      description: `CloudWatch Logs puts subscribed log events on ${props.name}'s logs stream`,
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          StringLike: { 'aws:SourceArn': stack.formatArn({ service: 'logs', resource: '*' }) },
        },
      }),
    });
    props.stream.grantPutRecords(this.role);
    acknowledge(
      this.role,
      'Grant-generated policy bound to this one role and the one stream it may put records on; a managed policy could be attached elsewhere.',
      'NIST.800.53.R5-IAMNoInlinePolicy',
    );

    if (props.accountPolicy?.enabled) {
      const policy = props.accountPolicy;
      this.accountPolicy = new logs.CfnAccountPolicy(this, 'AccountPolicy', {
        policyName: subscriptionFilterName(props.name),
        policyType: 'SUBSCRIPTION_FILTER_POLICY',
        scope: 'ALL',
        policyDocument: stack.toJsonString({
          DestinationArn: props.stream.deliveryStreamArn,
          RoleArn: this.role.roleArn,
          FilterPattern: policy.filterPattern,
        }),
        // Resolved at synth: every log group of the lake, including ones added after this construct, and
        // those the stack subscribes by name (their own filter already sends them: not twice).
        selectionCriteria: Lazy.string({
          produce: () =>
            notIn([...ownLogGroupNames(props.lake), ...policy.exclude, ...this.subscribedByTemplate()]),
        }),
      });
    }

    this.node.addValidation({ validate: () => [...this.feedbackLoops(), ...this.selectionCriteriaSize()] });
  }

  /**
   * Subscribe `logGroup` to the lake's `logs` stream.
   * @throws Error when the log group is one of the lake's own (it would feed on itself)
   */
  subscribe(logGroup: logs.ILogGroup, options: SubscribeOptions = {}): logs.SubscriptionFilter {
    if (this.isOwn(logGroup)) {
      throw new Error(
        `LogLake.subscribe: ${logGroup.node.path} is one of the lake's own log groups; subscribing it would feed the lake its own output`,
      );
    }
    return new logs.SubscriptionFilter(this, `Filter${Names.nodeUniqueId(logGroup.node)}`, {
      logGroup,
      destination: new destinations.FirehoseDestination(this.props.stream, { role: this.role }),
      filterPattern: options.filterPattern ?? logs.FilterPattern.allEvents(),
      filterName: subscriptionFilterName(this.props.name, options.category),
    });
  }

  /**
   * Subscribe the log groups whose names start with `prefixes`: those that exist at deploy time and
   * those created later ({@link LogLakePrefixSubscriptions}). The lake's own log groups and those the
   * stack subscribes by name are never touched, nor those the account policy covers.
   * @throws Error when called twice, or when a prefix is empty
   */
  subscribePrefixes(
    prefixes: readonly LogGroupPrefix[],
    options: { readonly encryptionKey: kms.IKey; readonly logRetentionDays: LogRetentionDays },
  ): LogLakePrefixSubscriptions {
    if (this.prefixes) throw new Error('LogLakeSubscriptions.subscribePrefixes: called twice');
    const policy = this.props.accountPolicy;
    const underPrefix = (name: string) => prefixes.some((p) => name.startsWith(p.prefix));
    this.prefixes = new LogLakePrefixSubscriptions(this, 'Prefixes', {
      name: this.props.name,
      prefixes,
      stream: this.props.stream,
      cloudWatchLogsRole: this.role,
      // Named groups matter only under a prefix (the function's environment holds 4 KB); a name known
      // only at deploy time is kept.
      exclude: () =>
        [...ownLogGroupNames(this.props.lake), ...this.subscribedByTemplate()].filter(
          (name) => Token.isUnresolved(name) || underPrefix(name),
        ),
      ...(policy?.enabled && { accountPolicyExclude: policy.exclude.filter(underPrefix) }),
      ...options,
    });
    return this.prefixes;
  }

  /** Names of the log groups the stack's subscription filters send to a lake stream. */
  private subscribedByTemplate(): string[] {
    const stack = Stack.of(this);
    const streams = this.props.lakeStreams().map((s) => canonical(stack.resolve(s.deliveryStreamArn)));
    return stack.node
      .findAll()
      .filter(
        (c): c is logs.CfnSubscriptionFilter =>
          c instanceof logs.CfnSubscriptionFilter &&
          streams.includes(canonical(stack.resolve(c.destinationArn))),
      )
      .map((c) => c.logGroupName);
  }

  private isOwn(logGroup: logs.ILogGroup): boolean {
    // A log group the lake creates; an imported one (`fromLogGroupName`) is only a reference, checked by name.
    if (logGroup instanceof logs.LogGroup && logGroup.node.scopes.includes(this.props.lake)) return true;
    // By reference (`Ref` of the lake's group), or by the literal name a group or function of the lake
    // was given (`fromLogGroupName(this, 'X', '/aws/lambda/<the transform's name>')`).
    const stack = Stack.of(this);
    const name = canonical(stack.resolve(logGroup.logGroupName));
    return (
      ownLogGroupNames(this.props.lake).some((own) => canonical(stack.resolve(own)) === name) ||
      ownLogGroupNameHeads(this.props.lake).some((own) => own.whole && own.head === name)
    );
  }

  /** Subscription filters and account policies in the stack that send a lake log group to a lake stream. */
  /** The account policy's exclusion list must fit CloudWatch Logs' 25 KB selection criteria. */
  private selectionCriteriaSize(): string[] {
    const criteria = this.accountPolicy?.selectionCriteria;
    if (criteria === undefined) return [];
    const bound = selectionCriteriaBound(canonical(Stack.of(this).resolve(criteria)));
    if (bound <= SELECTION_CRITERIA_MAX_BYTES) return [];
    return [
      `${this.accountPolicy?.node.path}: its selection criteria (the lake's own log groups, sources.cloudWatchLogs.accountPolicy.exclude and the log groups subscribed by name) may take up to ${bound} bytes, over CloudWatch Logs' limit of ${SELECTION_CRITERIA_MAX_BYTES}; exclude fewer groups, or subscribe them by prefix instead`,
    ];
  }

  private feedbackLoops(): string[] {
    const stack = Stack.of(this);
    const text = (v: unknown) => canonical(stack.resolve(v));
    const own = ownLogGroupNames(this.props.lake).map(text);
    const streams = this.props.lakeStreams().map((s) => text(s.deliveryStreamArn));
    const errors: string[] = [];
    const heads = ownLogGroupNameHeads(this.props.lake);
    for (const { prefix } of this.prefixes?.props.prefixes ?? []) {
      const matched = heads
        .filter((h) => mayStartWith(h, prefix))
        .map((h) => (h.whole ? h.head : `${h.head}…`));
      if (matched.length > 0) {
        errors.push(
          `sources.cloudWatchLogs.logGroupPrefixes: "${prefix}" matches the lake's own log groups (${matched.join(', ')}): the lake would feed on its own output; choose a prefix none of them can start with`,
        );
      }
    }
    for (const c of stack.node.findAll()) {
      if (c instanceof logs.CfnSubscriptionFilter) {
        const group = text(c.logGroupName);
        if (streams.includes(text(c.destinationArn)) && own.includes(group)) {
          errors.push(
            `${c.node.path} subscribes the lake's own log group ${group} to a lake stream: the lake would feed on its own output`,
          );
        }
      } else if (c instanceof logs.CfnAccountPolicy && c.policyType === 'SUBSCRIPTION_FILTER_POLICY') {
        const document = text(c.policyDocument);
        if (!streams.some((s) => document.includes(s))) continue;
        const criteria = c.selectionCriteria === undefined ? '' : text(c.selectionCriteria);
        const missing = own.filter((g) => !criteria.includes(`"${g}"`));
        if (missing.length > 0) {
          errors.push(
            `${c.node.path} sends every log group to a lake stream without excluding the lake's own (${missing.join(', ')}): the lake would feed on its own output`,
          );
        }
      }
    }
    return errors;
  }
}

/** CloudWatch Logs' limit on a subscription filter policy's `selectionCriteria`, in bytes (25 KB). */
export const SELECTION_CRITERIA_MAX_BYTES = 25 * 1024;
/** The longest log group name CloudWatch Logs allows: the size a name unknown at synth may take. */
const LOG_GROUP_NAME_MAX = 512;

/**
 * The most bytes a resolved selection criteria can take once deployed: its literal text, plus the
 * longest log group name for each name CloudFormation resolves at deploy time (a `Ref`).
 */
export function selectionCriteriaBound(resolved: string): number {
  let tokens = 0;
  const literal = resolved.replace(/\u00ab[^\u00bb]*\u00bb/g, () => {
    tokens++;
    return '';
  });
  return Buffer.byteLength(literal, 'utf8') + tokens * LOG_GROUP_NAME_MAX;
}

/** `LogGroupName NOT IN [...]`, the one selection CloudWatch Logs supports for subscription filter policies. */
function notIn(names: readonly string[]): string {
  return `LogGroupName NOT IN [${names.map((n) => `"${n}"`).join(', ')}]`;
}
