import { describe, expect, it } from 'vitest';
import { EMPTY_RULE_STATE } from '../../src/alerts/engine';
import { storedRuleState } from '../../src/alerts/state-table';

describe('storedRuleState', () => {
  it('reads back where the last evaluated window ended, so a skipped slot is caught up on AWS', () => {
    // Prepare: an item as the alarm Lambda's DynamoStateStore writes it (unmarshalled).
    const item = {
      pk: 'rule#error-rate',
      sk: 'state',
      state: EMPTY_RULE_STATE,
      lastSlot: '2025-01-06T12:05:00.000Z',
      lastWindowEnd: '2025-01-06T12:03:00.000Z',
      outbox: [],
      version: 3,
    };
    // Act
    const stored = storedRuleState(item);
    // Assess
    expect(stored).toEqual({
      state: EMPTY_RULE_STATE,
      lastSlot: '2025-01-06T12:05:00.000Z',
      lastWindowEnd: '2025-01-06T12:03:00.000Z',
      outbox: [],
      version: 3,
    });
  });

  it('reads an item written before lastWindowEnd existed without one (no catch-up that time)', () => {
    const stored = storedRuleState({
      state: EMPTY_RULE_STATE,
      lastSlot: '2025-01-06T12:05:00.000Z',
      version: 1,
    });
    expect(stored).toEqual({
      state: EMPTY_RULE_STATE,
      lastSlot: '2025-01-06T12:05:00.000Z',
      outbox: [],
      version: 1,
    });
  });
});
