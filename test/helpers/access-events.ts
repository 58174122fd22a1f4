import type { AccessEvent } from '../../src/audit/access';

/** A completed Athena search by a developer role, as the CLI records it. */
export const ATHENA_SEARCH_EVENT: AccessEvent = {
  id: 'e-1',
  time: '2025-01-06T12:04:58.000Z',
  principal: 'arn:aws:sts::123456789012:assumed-role/Dev/jane',
  persona: 'developer',
  command: 'search',
  engine: 'athena',
  lake: 'wg/lake',
  queryKind: 'search',
  categories: ['errors'],
  filter: {},
  rows: 1,
  outcome: 'completed',
  durationMs: 5,
  flags: [],
};
