/** The one way Lambda environments are read (src/environment.ts) and the one ConfigError format. */
import { describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../lambdas/alarm/constants';
import { readEnv as readAlarmEnv } from '../lambdas/alarm/env';
import { ERASE_ENV } from '../lambdas/erase/constants';
import { readEnv as readEraseEnv } from '../lambdas/erase/env';
import { TRANSFORM_ENV } from '../lambdas/transform/constants';
import { readEnv as readTransformEnv } from '../lambdas/transform/env';
import { DEFAULT_CONFIG } from '../src/config';
import { ConfigError } from '../src/errors';
import { transformConfigSlice } from '../src/transform';

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const transformEnv = {
  [TRANSFORM_ENV.settings]: JSON.stringify(transformConfigSlice(DEFAULT_CONFIG)),
  [TRANSFORM_ENV.stream]: 'logs',
  [TRANSFORM_ENV.pseudonymSecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k',
  [TRANSFORM_ENV.subjectKeyTable]: 'loglake-subject-keys',
};

describe('transform readEnv', () => {
  it('reads the settings, the stream and the secret, and an empty audit stream as none', () => {
    const env = readTransformEnv({ ...transformEnv, [TRANSFORM_ENV.auditStreamName]: '' });

    expect(env).toMatchObject({ stream: 'logs', auditStreamName: undefined });
    expect(env.config.categories.debug.expiryDays).toBe(DEFAULT_CONFIG.categories.debug.expiryDays);
  });

  it('names every variable at fault, a field inside the settings by its path, in one message format', () => {
    const settings = JSON.parse(transformEnv[TRANSFORM_ENV.settings]) as {
      redaction: Record<string, unknown>;
    };
    settings.redaction.ipv4PrefixLength = 40;

    const error = thrown(() =>
      readTransformEnv({
        [TRANSFORM_ENV.settings]: JSON.stringify(settings),
        [TRANSFORM_ENV.stream]: 'debug',
      }),
    );

    expect(error.problems.map((p) => [p.path, p.received])).toEqual([
      [TRANSFORM_ENV.stream, 'debug'],
      [`${TRANSFORM_ENV.settings}.redaction.ipv4PrefixLength`, 40],
      [TRANSFORM_ENV.pseudonymSecretArn, undefined],
      [TRANSFORM_ENV.subjectKeyTable, undefined],
    ]);
    expect(error.message.split('\n')).toEqual([
      'Invalid transform environment:',
      `  - ${TRANSFORM_ENV.stream}: must be one of logs, audit (received "debug")`,
      expect.stringMatching(
        new RegExp(`^  - ${TRANSFORM_ENV.settings}\\.redaction\\.ipv4PrefixLength: .* \\(received 40\\)$`),
      ),
      `  - ${TRANSFORM_ENV.pseudonymSecretArn}: is required (received nothing)`,
      `  - ${TRANSFORM_ENV.subjectKeyTable}: is required (received nothing)`,
    ]);
  });

  it('reports settings that are not JSON', () => {
    const error = thrown(() => readTransformEnv({ ...transformEnv, [TRANSFORM_ENV.settings]: '{oops' }));

    expect(error.problems).toEqual([
      {
        path: TRANSFORM_ENV.settings,
        message: expect.stringMatching(/^not valid JSON: /),
        received: '{oops',
      },
    ]);
  });
});

describe('alarm readEnv', () => {
  it('reports the same way: a title line, then one line per variable', () => {
    const error = thrown(() => readAlarmEnv({ [ALARM_ENV.tables]: '{"audit":"audit"}' }));

    expect(error.message.split('\n')[0]).toBe('Invalid alarm Lambda environment:');
    expect(error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([ALARM_ENV.settings, `${ALARM_ENV.tables}.logs`, ALARM_ENV.topics]),
    );
  });
});

describe('erase readEnv', () => {
  const eraseEnv = (searchDays: Record<string, number>) => ({
    [ERASE_ENV.requestTable]: 'requests',
    [ERASE_ENV.keyTable]: 'keys',
    [ERASE_ENV.auditStream]: 'audit',
    [ERASE_ENV.principal]: 'arn:aws:iam::123456789012:role/erase',
    [ERASE_ENV.purge]: JSON.stringify({
      bucket: 'lake',
      workgroup: 'loglake-purge',
      database: 'loglake',
      table: 'logs',
      categories: ['debug', 'runtime'],
      locked: ['security'],
      searchDays,
    }),
  });

  it("reads each purged category's search days", () => {
    expect(readEraseEnv(eraseEnv({ debug: 15, runtime: 31 })).purge.searchDays).toEqual({
      debug: 15,
      runtime: 31,
    });
  });

  it('names a purged category without search days', () => {
    const error = thrown(() => readEraseEnv(eraseEnv({ debug: 15 })));

    expect(error.problems.map((p) => [p.path, p.message])).toEqual([
      [`${ERASE_ENV.purge}.searchDays.runtime`, 'is required: category runtime is purged'],
    ]);
  });
});
