import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { personaWorkGroupOutput, resolveAthenaTarget } from '../../src/cli/aws';
import { cleanupCommand } from '../../src/cli/commands/cleanup';
import { complianceReportCommand } from '../../src/cli/commands/compliance-report';
import { healthCommand } from '../../src/cli/commands/health';
import { csvField, RecordWriter } from '../../src/cli/format';
import {
  athenaTablesFor,
  filterFromFlags,
  loadConfig,
  oneLake,
  parseLevels,
  personaCategories,
} from '../../src/cli/options';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/config';
import { InputError } from '../../src/errors';
import { buildQuery } from '../../src/query';
import { LEVEL_WORDS, levelFromName } from '../../src/transform/level';
import { record } from '../helpers/records';

describe('loadConfig', () => {
  it('without --config gives the validated defaults, as a copy the caller may change', () => {
    // Act
    const config = loadConfig(undefined);
    config.accessAudit.bulkReadRows = 1;

    // Assert
    expect(loadConfig(undefined)).toEqual(resolveConfig({}));
    expect(DEFAULT_CONFIG.accessAudit.bulkReadRows).toBe(resolveConfig({}).accessAudit.bulkReadRows);
  });
});

describe('athenaTablesFor', () => {
  it.each([
    [undefined, false, ['logs']],
    [undefined, true, ['logs', 'audit']],
    // A locked category's records the transform could not forward stay in the logs bucket.
    [['security'], false, ['logs', 'audit']],
    [['audit', 'security'], false, ['logs', 'audit']],
    [['errors', 'runtime'], false, ['logs']],
    [['errors', 'audit'], false, ['logs', 'audit']],
  ] as const)('reads %j (include audit: %s) from %j', (categories, includeAudit, expected) => {
    // Act
    const tables = athenaTablesFor(categories, DEFAULT_CONFIG, includeAudit);

    // Assess
    expect(tables).toEqual(expected);
  });

  it('reads a category locked in the config from both tables, and an unlocked one from logs only', () => {
    // Prepare
    const config = resolveConfig({ categories: { errors: { locked: true }, security: { locked: false } } });

    // Act
    const errors = athenaTablesFor(['errors'], config, false);
    const security = athenaTablesFor(['security'], config, false);

    // Assess
    expect(errors).toEqual(['logs', 'audit']);
    expect(security).toEqual(['logs']);
  });
});

describe('personaCategories', () => {
  it.each([
    ['developer', undefined, ['debug', 'runtime', 'framework', 'errors', 'api_access']],
    ['ops', undefined, ['debug', 'runtime', 'framework', 'errors', 'api_access', 'security']],
    ['security', undefined, ['debug', 'runtime', 'framework', 'errors', 'api_access', 'security', 'audit']],
    ['auditor', undefined, ['framework', 'errors', 'security', 'audit']],
    ['auditor', ['errors', 'debug', 'audit'], ['errors', 'audit']],
  ] as const)('lets %s read %j as %j', (persona, requested, expected) => {
    // Act
    const categories = personaCategories(persona, requested, DEFAULT_CONFIG);

    // Assess
    expect(categories).toEqual(expected);
  });

  it('follows the persona grants of the config', () => {
    // Prepare
    const config = resolveConfig({ personas: { developer: { read: ['errors'] } } });

    // Act
    const categories = personaCategories('developer', undefined, config);

    // Assess
    expect(categories).toEqual(['errors']);
  });

  it('refuses a --category the persona may not read, naming what it may read', () => {
    // Act
    const act = () => personaCategories('developer', ['security', 'audit'], DEFAULT_CONFIG);

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow(
      '--persona developer may read debug, runtime, framework, errors, api_access, none of --category security, audit',
    );
  });

  it('restricts the category partition of every table an auditor query reads', () => {
    // Prepare
    const categories = personaCategories('auditor', undefined, DEFAULT_CONFIG);
    const tables = athenaTablesFor(categories, DEFAULT_CONFIG, false);
    const since = new Date('2026-11-22T00:00:00Z');
    const until = new Date('2026-11-23T00:00:00Z');

    // Act
    const built = buildQuery(
      { kind: 'search', filter: { since, until, categories }, limit: 10 },
      { dialect: 'athena', tables: tables.map((table) => ({ database: 'lake', table })) },
    );

    // Assess
    expect(tables).toEqual(['logs', 'audit']);
    const branches = built.sql.split('UNION ALL');
    expect(branches).toHaveLength(2);
    for (const branch of branches) expect(branch).toContain('"category" IN (?, ?, ?, ?)');
    expect(built.params.filter((p) => (categories as readonly string[]).includes(p))).toEqual([
      ...categories,
      ...categories,
    ]);
  });
});

describe('athenaTablesFor with personaCategories', () => {
  it('keeps a persona that may not read a locked category from its rows in the logs table too', () => {
    // Prepare: the logs table projects every category, security records the transform kept included.
    const categories = personaCategories('developer', undefined, DEFAULT_CONFIG);
    const tables = athenaTablesFor(categories, DEFAULT_CONFIG, false);
    const since = new Date('2026-11-22T00:00:00Z');
    const until = new Date('2026-11-23T00:00:00Z');

    // Act
    const built = buildQuery(
      { kind: 'search', filter: { since, until, categories }, limit: 10 },
      { dialect: 'athena', tables: tables.map((table) => ({ database: 'lake', table })) },
    );

    // Assess
    expect(tables).toEqual(['logs']);
    expect(built.sql).not.toContain('UNION ALL');
    expect(built.sql).toContain('"category" IN (?, ?, ?, ?, ?)');
    expect(built.params).not.toContain('security');
    expect(built.params).not.toContain('audit');
  });
});

describe('parseLevels', () => {
  it('accepts any case and every alias the transform maps', () => {
    // Act
    const levels = parseLevels(['error', 'Warning', 'FATAL', 'info', 'panic', 'trace', 'emerg', 'severe']);

    // Assess
    expect(levels).toEqual(['ERROR', 'WARN', 'CRITICAL', 'INFO', 'CRITICAL', 'DEBUG', 'CRITICAL', 'ERROR']);
  });

  it('maps every level word the transform knows as the transform does', () => {
    // Act
    const levels = parseLevels(LEVEL_WORDS);

    // Assess
    expect(levels).toEqual(LEVEL_WORDS.map((w) => levelFromName(w)));
  });

  it('refuses an unknown level, naming it and the levels', () => {
    // Act
    const act = () => parseLevels(['LOUD']);

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow('--level: unknown level "LOUD"; expected one of DEBUG, INFO, WARN, ERROR, CRITICAL');
  });
});

describe('filterFromFlags', () => {
  it('defaults to the last 24 h up to the future tolerance and pseudonymizes users', async () => {
    // Prepare
    const now = new Date('2026-11-22T12:00:00Z');

    // Act
    const filter = await filterFromFlags(
      undefined,
      { user: ['42'] },
      DEFAULT_CONFIG,
      async (ids) => ids.map((i) => `p(${i})`),
      now,
    );

    // Assess
    expect(filter.since.toISOString()).toBe('2026-11-21T12:00:00.000Z');
    expect(filter.until.toISOString()).toBe('2026-11-22T12:15:00.000Z');
    expect(filter.userIds).toEqual(['p(42)']);
  });

  it('rejects a range that ends before it starts', async () => {
    // Act
    const act = filterFromFlags(undefined, { since: '1h', until: '2h' }, DEFAULT_CONFIG, async (i) => i);

    // Assess
    await expect(act).rejects.toThrow(InputError);
    await expect(act).rejects.toThrow(/--since .* must be before --until/);
  });
});

describe('resolveAthenaTarget', () => {
  it('takes everything from flags without calling AWS', async () => {
    // Act
    const target = await resolveAthenaTarget({
      workgroup: 'wg',
      database: 'db',
      region: 'eu-west-1',
      logsTable: 'l',
    });

    // Assess
    expect(target).toEqual({
      region: 'eu-west-1',
      workGroup: 'wg',
      database: 'db',
      tables: { logs: 'l', audit: 'audit' },
      pseudonymSecret: undefined,
    });
  });

  it('names the missing flags', async () => {
    // Act
    const act = resolveAthenaTarget({ workgroup: 'wg' });

    // Assess
    await expect(act).rejects.toThrow('--athena needs --database');
  });

  it('maps a persona to its workgroup output', () => {
    expect(personaWorkGroupOutput('developer')).toBe('DeveloperWorkGroupName');
  });
});

describe('csvField', () => {
  it('round-trips any text through RFC 4180 quoting, formulas defused', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        // Act
        const field = csvField(text);

        // Assess
        const unquoted = field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;
        // Text a spreadsheet would read as a formula carries a leading `'`.
        expect(unquoted).toBe(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
        if (/[",\r\n]/.test(text)) expect(field.startsWith('"')).toBe(true);
      }),
    );
  });
});

describe('RecordWriter', () => {
  it('writes one JSON array across chunks, and [] when there is nothing', async () => {
    // Prepare
    let out = '';
    let empty = '';
    const writer = new RecordWriter('json', (t) => {
      out += t;
    });
    const none = new RecordWriter('json', (t) => {
      empty += t;
    });

    // Act
    await writer.write([record({ correlation_id: 'a' })]);
    await writer.write([record({ correlation_id: 'b' }), record({ correlation_id: 'c' })]);
    await writer.end();
    await none.end();

    // Assess
    expect((JSON.parse(out) as Array<{ correlation_id: string }>).map((r) => r.correlation_id)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(JSON.parse(empty)).toEqual([]);
  });
});

describe('oneLake', () => {
  it.each([
    ['health', () => healthCommand({ stack: 'LogLake', dataDir: '/tmp/lake' })],
    ['cleanup', () => cleanupCommand({ stack: 'LogLake', dataDir: '/tmp/lake', dryRun: true })],
    ['compliance-report', () => complianceReportCommand({ stack: 'LogLake', dataDir: '/tmp/lake' })],
  ] as const)('%s refuses --stack with --data-dir before reading either lake', async (_, run) => {
    await expect(run()).rejects.toThrow(new InputError('--stack and --data-dir name two lakes: give one'));
  });

  it('takes either flag alone', () => {
    expect(() => oneLake({ stack: 'LogLake' })).not.toThrow();
    expect(() => oneLake({ dataDir: '/tmp/lake' })).not.toThrow();
  });
});
