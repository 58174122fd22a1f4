import { describe, expect, it } from 'vitest';
import { template } from './helpers';

/** Asset hashes change with every dependency bump; the snapshot is about the infrastructure. */
function stripAssetHashes(json: unknown): unknown {
  return JSON.parse(JSON.stringify(json).replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset-hash>$1'));
}

describe('LogLakeStack', () => {
  it('matches the reviewed template (asset hashes stripped)', () => {
    const json = stripAssetHashes(template().toJSON());

    expect(json).toMatchSnapshot();
  });
});
