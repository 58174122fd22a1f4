import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { alertsEvaluateFlags } from '../../src/cli/commands/alerts';
import { demoFlags } from '../../src/cli/commands/demo';
import { exportFlags } from '../../src/cli/commands/export';
import { COMMANDS } from '../../src/cli/commands/index';
import { localFlags } from '../../src/cli/commands/local';
import { searchFlags } from '../../src/cli/commands/search';
import { sendFlags } from '../../src/cli/commands/send';
import { statsFlags } from '../../src/cli/commands/stats';
import {
  cancelFlags,
  eraseFlags,
  statusFlags,
  exportFlags as subjectExportFlags,
} from '../../src/cli/commands/subject';
import { parseFlags } from '../../src/cli/flags';
import { buildProgram, requestedCommand } from '../../src/cli/main';
import { DeliveryError, InputError, userMessage } from '../../src/errors';

describe('COMMANDS', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s registers the command it is listed as',
    async (name, entry) => {
      // Prepare
      const program = new Command('loglake');

      // Act
      (await entry.load())(program);

      // Assess
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    },
  );
});

describe('buildProgram', () => {
  it('defines the requested command in full and the others by name and summary only', async () => {
    // Act
    const program = await buildProgram(['stats', '--group-by', 'service']);

    // Assess
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    const stats = program.commands.find((c) => c.name() === 'stats');
    expect(stats?.options.map((o) => o.long)).toContain('--group-by');
    expect(stats?.summary()).toBe(COMMANDS.find((c) => c.name === 'stats')?.summary);
    expect(program.commands.find((c) => c.name() === 'search')?.options).toEqual([]);
  });
});

describe('requestedCommand', () => {
  it.each([
    [['search', 'text', '--since', '1h'], 'search'],
    [['--help'], undefined],
    [[], undefined],
    [['help', 'export'], 'export'],
    [['alerts', 'evaluate', '--rule', 'x'], 'alerts'],
    [['-V'], undefined],
  ])('finds the command of %j: %s', (argv, expected) => {
    // Act
    const name = requestedCommand(argv);

    // Assess
    expect(name).toBe(expected);
  });
});

describe('command flags', () => {
  it.each([
    ['search', searchFlags, []],
    ['stats', statsFlags, []],
    ['export', exportFlags, []],
    ['alerts', alertsEvaluateFlags, ['evaluate']],
    ['local', localFlags, []],
    ['send', sendFlags, []],
    ['demo', demoFlags, []],
    ['subject', eraseFlags, ['erase']],
    ['subject', cancelFlags, ['cancel']],
    ['subject', statusFlags, ['status']],
    ['subject', subjectExportFlags, ['export']],
  ] as const)('%s %j declares in its schema exactly the options it defines', async (name, schema, path) => {
    // Prepare
    const program = await buildProgram([name]);
    let cmd = program.commands.find((c) => c.name() === name);
    for (const sub of path) cmd = cmd?.commands.find((c) => c.name() === sub);

    // Act
    const options = (cmd?.options ?? []).map((o) => o.attributeName()).sort();

    // Assess
    expect(options).toEqual(Object.keys((schema as z.ZodObject).shape).sort());
  });

  it('names the flag whose value has the wrong shape, as a usage error', () => {
    // Act
    const act = () => parseFlags(searchFlags, { limit: 'ten', dataDir: 4 });

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow(
      '--data-dir: Invalid input: expected string, received number; --limit: Invalid input: expected number, received string',
    );
  });

  it('treats a flag missing from the schema as a bug, not a usage error', () => {
    // Act
    const act = () => parseFlags(searchFlags, { newFlag: 'x' });

    // Assess
    expect(act).toThrow("flags not declared in the command's schema: --new-flag");
    expect(act).not.toThrow(InputError);
  });
});

describe('userMessage', () => {
  it('says what failed without the error class, keeping an AWS error code', () => {
    // Prepare
    const aws = Object.assign(new Error('User is not authorized to perform athena:StartQueryExecution'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });

    // Act
    const messages = [
      userMessage(new DeliveryError('Athena query q-1 failed: boom')),
      userMessage(new TypeError('x is not a function')),
      userMessage(aws),
      userMessage('plain'),
    ];

    // Assess
    expect(messages).toEqual([
      'Athena query q-1 failed: boom',
      'x is not a function',
      'User is not authorized to perform athena:StartQueryExecution (AWS AccessDeniedException)',
      'plain',
    ]);
  });
});
