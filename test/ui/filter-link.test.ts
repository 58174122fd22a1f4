/** Click-to-filter links: the condition a link carries reads back as the field and value clicked. */
import { describe, expect, it } from 'vitest';
import { parseCondition } from '../../src/query/fields';
import { parseUiQuery, uiQueryString, withFieldValue } from '../../src/ui/params';

describe('withFieldValue', () => {
  it.each([['a\\'], ['path.C:\\'], ['dir name\\'], ['a=\\\\'], ['say "hi\\"\\']])(
    'builds a link for attribute key %j that reads back as that key',
    (key) => {
      // Arrange
      const query = { text: undefined, flags: {} };

      // Act
      const link = uiQueryString(withFieldValue(query, { column: 'attributes', key }, 'v 1'));
      const [where, ...more] = parseUiQuery(new URLSearchParams(link)).flags.where ?? [];
      const condition = parseCondition(where ?? '');

      // Assert
      expect(more).toEqual([]);
      expect(condition.field).toEqual({ column: 'attributes', key });
      expect(condition.op).toBe('=');
      expect(condition.value).toBe('v 1');
    },
  );
});
