/**
 * The alarm Lambda's access scope: every rule query it runs on Athena is recorded as an access event
 * (src/audit/access.ts) on the audit delivery stream, as the function's role, command `alert-evaluate`,
 * with the rule's name. The function has no persona (it queries through the main workgroup), so its
 * reads of locked categories are not flagged `locked_category`; they are still recorded.
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { AccessScope } from '../../src/audit/access';
import { FirehoseAccessSink } from '../../src/audit/firehose-sink';
import type { Category } from '../../src/schema';
import type { AlarmAccessAudit } from './env';

/** The command of the alarm Lambda's access events. */
export const ALARM_ACCESS_COMMAND = 'alert-evaluate';

export function alarmAccessScope(
  audit: AlarmAccessAudit,
  lockedCategories: readonly Category[],
  firehose: FirehoseClient,
): AccessScope {
  const sink = new FirehoseAccessSink(firehose, audit.stream);
  const settings = { bulkReadRows: audit.bulkReadRows, lockedCategories };
  return {
    principal: () => Promise.resolve(audit.principal),
    command: ALARM_ACCESS_COMMAND,
    settings: () => Promise.resolve(settings),
    sinkFor: () => sink,
  };
}
