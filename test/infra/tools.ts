/** Running the repository's own scripts and tools from tests. */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './helpers';

/** Make sure `.venv` holds requirements-dev.txt (MiniStack, cfn-lint); installs on first use. */
export function ensureVenv(): void {
  execFileSync(path.join(ROOT, 'scripts/venv.sh'), { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command in the repository, capturing output; never throws on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): RunResult {
  const r = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The environment without any AWS credentials or profile, so a tool cannot reach an account. */
export function envWithoutAws(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  return { ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', ...extra };
}
