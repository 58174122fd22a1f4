/**
 * The redaction detector set's version follows its sources: the fingerprint of `src/redact/` as it is
 * must be the last recorded version's, so changing a detector without a new version fails here.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETECTOR_SET_HISTORY, DETECTOR_SET_LABEL, DETECTOR_SET_VERSION } from '../../src/redact/version';

const REDACT = join(__dirname, '../../src/redact');

/** Code lines only: a comment or a blank line is not a detector change. */
function code(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(\/\/|\/\*|\*)/.test(line))
    .join('\n');
}

/** SHA-256 over every detector source (all of src/redact but version.ts), by name. */
function detectorFingerprint(dir = REDACT): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'version.ts')
    .sort()) {
    hash.update(`${file}\n${code(readFileSync(join(dir, file), 'utf8'))}\n`);
  }
  return hash.digest('hex');
}

describe('the redaction detector set version', () => {
  it('names the detector sources as they are (a detector change needs a new version)', () => {
    // Act
    const fingerprint = detectorFingerprint();

    // Assert
    const last = DETECTOR_SET_HISTORY[DETECTOR_SET_HISTORY.length - 1];
    expect(
      last?.fingerprint,
      `src/redact changed: append { version: ${(last?.version ?? 0) + 1}, fingerprint: '${fingerprint}', change: '…' } to DETECTOR_SET_HISTORY in src/redact/version.ts`,
    ).toBe(fingerprint);
  });

  it('keeps every recorded version: numbered 1, 2, … with a fingerprint of its own', () => {
    expect(DETECTOR_SET_HISTORY.map((v) => v.version)).toEqual(DETECTOR_SET_HISTORY.map((_, i) => i + 1));
    expect(new Set(DETECTOR_SET_HISTORY.map((v) => v.fingerprint)).size).toBe(DETECTOR_SET_HISTORY.length);
    for (const v of DETECTOR_SET_HISTORY) expect(v.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is what the report names, not the package version', () => {
    expect(DETECTOR_SET_VERSION).toBe(DETECTOR_SET_HISTORY.length);
    expect(DETECTOR_SET_LABEL).toMatch(
      new RegExp(`^redaction detector set ${DETECTOR_SET_VERSION} \\(fingerprint [0-9a-f]{12}\\)$`),
    );
  });

  it('changes its fingerprint when a detector pattern changes, not when a comment does', () => {
    // Arrange: the sources, one with a comment added, one with a pattern changed
    const source = readFileSync(join(REDACT, 'patterns.ts'), 'utf8');
    const fingerprintOf = (patterns: string) => {
      const hash = createHash('sha256');
      hash.update(code(patterns));
      return hash.digest('hex');
    };

    expect(source).toContain('MIN_CARD_DIGITS = 13');

    // Act
    const original = fingerprintOf(source);
    const commented = fingerprintOf(`// a note on the detectors\n${source}\n/** more */\n`);
    const changed = fingerprintOf(source.replace('MIN_CARD_DIGITS = 13', 'MIN_CARD_DIGITS = 12'));

    // Assert
    expect(commented).toBe(original);
    expect(changed).not.toBe(original);
  });
});
