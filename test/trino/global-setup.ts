/**
 * Global setup of the `trino` test project: makes sure a Trino answers on `LOGLAKE_TRINO_PORT`, writes the
 * tier's lake once (`shared-lake.ts`) and hands both to the tests. Locally it starts one on demand (`scripts/trino.sh start`: the
 * first run downloads Trino from Maven Central) and stops it after the run; in CI `.ci/run` starts it,
 * and its absence fails the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { ROOT, TRINO_SCRIPT, trinoEnv, trinoLakeRoot } from './env';
import { dropSharedLake, type SharedLake, writeSharedLake } from './shared-lake';

declare module 'vitest' {
  export interface ProvidedContext {
    trino: { url: string; lakeRoot: string; lake: SharedLake };
  }
}

function script(command: 'start' | 'stop' | 'status', stdio: 'inherit' | 'ignore') {
  return spawnSync(TRINO_SCRIPT, [command], { cwd: ROOT, stdio: ['ignore', stdio, stdio] }).status;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { port, ci } = trinoEnv;
  let started = false;
  if (script('status', 'ignore') !== 0) {
    if (ci) {
      throw new Error(
        `Trino tier: no Trino answers on 127.0.0.1:${port}. In CI, .ci/run starts it (scripts/trino.sh start) before npm test; see .ci/tmp/trino-${port}/server.log`,
      );
    }
    console.log(
      `Trino tier: starting Trino on 127.0.0.1:${port} (scripts/trino.sh start; the first run downloads ~450 MB through Maven, later starts take 30-90 s)`,
    );
    if (script('start', 'inherit') !== 0) {
      throw new Error(
        `Trino tier: scripts/trino.sh start failed (needs Maven and Java >= 24, or python3 to install one); these tests need a running Trino`,
      );
    }
    started = true;
  }
  const lakeRoot = trinoLakeRoot(port);
  if (!existsSync(lakeRoot)) {
    throw new Error(
      `Trino tier: Trino answers on port ${port} but ${lakeRoot} does not exist: it was not started by this checkout's scripts/trino.sh (set LOGLAKE_TRINO_PORT to a free port)`,
    );
  }
  const url = `http://127.0.0.1:${port}`;
  let lake: SharedLake | undefined;
  try {
    // One lake for every file of the tier: the pipeline, the synth and the DDL run once.
    lake = await writeSharedLake(url, lakeRoot);
    project.provide('trino', { url, lakeRoot, lake });
  } catch (error) {
    if (started) script('stop', 'inherit');
    throw error;
  }
  return async () => {
    try {
      if (lake) await dropSharedLake(url, lake);
    } finally {
      if (started) script('stop', 'inherit');
    }
  };
}
