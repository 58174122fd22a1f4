/**
 * The rules' state read from the alarm Lambda's table with the AWS SDK: the compliance report's alert
 * coverage and the explorer's alerts page over a deployed stack.
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { StoredRuleState } from './run';
import { RULE_STATE_SORT_KEY, ruleStateKey, storedRuleState } from './state-table';

/** One rule's read: its state, none (never evaluated), or refused (the error's message, as AWS words it). */
export type RuleStateRead =
  | { readonly rule: string; readonly stored: StoredRuleState }
  | { readonly rule: string; readonly stored: undefined }
  | { readonly rule: string; readonly denied: string };

/**
 * The stored state of each rule, in the order given, one GetItem per rule: a persona's grant lets it read
 * only the keys of the rules over its categories (a `dynamodb:LeadingKeys` condition), and a BatchGetItem
 * or Query naming one key more would be refused whole. A rule whose read is refused (AccessDenied, from
 * DynamoDB or from KMS decrypting the item) says so instead of failing the others; any other error throws.
 */
export async function readRuleStates(
  db: DynamoDBClient,
  table: string,
  rules: readonly string[],
): Promise<RuleStateRead[]> {
  return Promise.all(
    rules.map(async (rule): Promise<RuleStateRead> => {
      try {
        const { Item } = await db.send(
          new GetItemCommand({
            TableName: table,
            Key: { pk: { S: ruleStateKey(rule) }, sk: { S: RULE_STATE_SORT_KEY } },
          }),
        );
        return { rule, stored: Item ? storedRuleState(unmarshall(Item)) : undefined };
      } catch (error) {
        if (error instanceof Error && error.name === 'AccessDeniedException') {
          return { rule, denied: error.message };
        }
        throw error;
      }
    }),
  );
}
