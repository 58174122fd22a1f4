/**
 * The alarm Lambda's DynamoDB state table as its readers see it: one item per rule, `pk = rule#<name>`,
 * `sk = state`. The Lambda writes it (`lambdas/alarm/aws.ts`), the compliance report and the explorer
 * read it (`dynamodb-state.ts`), and the persona grants name the same partition keys in their
 * `dynamodb:LeadingKeys` condition, so all of them take the keys from here. SDK-free: the CDK app
 * imports it.
 */
import type { Alert } from './alert';
import type { StoredRuleState } from './run';

/** The partition key of a rule's state item. */
export function ruleStateKey(rule: string): string {
  return `rule#${rule}`;
}

/** The sort key of every rule's state item. */
export const RULE_STATE_SORT_KEY = 'state';

/** A stored item (unmarshalled) as the rule state it holds; an item written before `outbox` or `version` existed counts as none. */
export function storedRuleState(item: Readonly<Record<string, unknown>>): StoredRuleState {
  return {
    state: item.state as StoredRuleState['state'],
    ...(typeof item.lastSlot === 'string' ? { lastSlot: item.lastSlot } : {}),
    ...(typeof item.lastWindowEnd === 'string' ? { lastWindowEnd: item.lastWindowEnd } : {}),
    outbox: (item.outbox as Alert[] | undefined) ?? [],
    version: Number(item.version ?? 0),
  };
}
