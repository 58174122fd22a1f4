/**
 * The AWS CLI commands the docs show (the README's quickstart and `loglake local --help`), run as
 * written with AWS CLI v2 on a machine with no AWS configuration at all (no region, no credentials),
 * against the local pipeline: each record must land in the lake.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';
import { type Ran, run, sh } from '../helpers/run';
import { readmeCommands } from './readme';

/** AWS CLI v2: the first `aws` on PATH that is v2, else Debian's (package awscli, which .ci/run installs). */
function awsCliV2(): string {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'aws')),
    '/usr/bin/aws',
    '/usr/local/bin/aws',
  ];
  for (const bin of candidates) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /^aws-cli\/2\./.test(`${r.stdout}${r.stderr}`)) return bin;
  }
  throw new Error('AWS CLI v2 not found: install it (Debian: apt-get install awscli; .ci/run does)');
}

let local: TestLocal;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  local = await startTestLocal();
  // A fresh machine: an empty home (no ~/.aws), no AWS variables, and `aws` meaning AWS CLI v2.
  home = mkdtempSync(join(tmpdir(), 'loglake-awscli-'));
  symlinkSync(awsCliV2(), join(home, 'aws'));
  env = { PATH: `${home}${delimiter}${process.env.PATH ?? ''}`, HOME: home, LANG: 'C.UTF-8' };
});

afterAll(async () => {
  await local?.dispose();
  if (home) rmSync(home, { recursive: true, force: true });
});

/**
 * Run a documented command as written, with only the local endpoint's port changed. Asynchronously:
 * the endpoint runs in this process and must answer meanwhile.
 */
function runDocumented(command: string): Promise<Ran> {
  const url = new URL(local.endpoint.url);
  return sh(command.replaceAll('127.0.0.1:4573', `127.0.0.1:${url.port}`), { env });
}

describe('the documented AWS CLI commands', () => {
  it('README quickstart: aws firehose put-record works as written, on a machine without AWS config', async () => {
    // Prepare
    const [command, ...others] = readmeCommands('aws firehose put-record');
    expect(others).toEqual([]);

    // Act
    const result = await runDocumented(command as string);
    await local.pipeline.flush();

    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ RecordId: expect.any(String) });
    const records = await searchLake(local.dataDir, { text: 'boom' });
    expect(records.map((r) => [r.level, r.message])).toEqual([['ERROR', 'boom']]);
  }, 60_000);

  it('`loglake local --help`: its aws example works as written', async () => {
    // Prepare
    const { stdout: help } = await run(process.execPath, [
      join(__dirname, '..', '..', 'bin', 'loglake.cjs'),
      'local',
      '--help',
    ]);
    const lines = help.split('\n').map((l) => l.trim());
    const command = lines.find((l) => l.startsWith('aws firehose put-record'));
    expect(command).toBeDefined();

    // Act
    const result = await runDocumented(command as string);
    await local.pipeline.flush();

    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const records = await searchLake(local.dataDir, { text: 'hello' });
    expect(records.map((r) => r.message)).toEqual(['hello']);
  }, 60_000);
});
