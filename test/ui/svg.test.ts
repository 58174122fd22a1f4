/** The charts' series colours. */
import { describe, expect, it } from 'vitest';
import { colourOf } from '../../src/ui/svg';

describe('colourOf', () => {
  it('gives twelve series (the tracing dashboard has eleven services) twelve different colours', () => {
    const colours = Array.from({ length: 12 }, (_, i) => colourOf(`service-${i}`, i));
    expect(new Set(colours).size).toBe(12);
  });

  it('keeps a level its own colour whatever its position', () => {
    expect(colourOf('ERROR', 0)).toBe(colourOf('ERROR', 7));
  });
});
