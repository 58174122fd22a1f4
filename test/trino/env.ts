/** Environment of the Trino tier (the only place it reads `process.env`). */
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export const trinoEnv = {
  /** `scripts/trino.sh`'s port: 8085 unless `LOGLAKE_TRINO_PORT` says otherwise. */
  port: Number(process.env.LOGLAKE_TRINO_PORT || 8085),
  /** In CI, `.ci/run` starts Trino: a missing one is a broken run, not something to start here. */
  ci: process.env.CI === 'true' || process.env.CI === '1',
};

/** The catalog's `local.location` as `scripts/trino.sh` configures it for a port. */
export function trinoLakeRoot(port: number): string {
  return path.join(ROOT, '.ci', 'tmp', `trino-${port}`, 'lake');
}

export const TRINO_SCRIPT = path.join(ROOT, 'scripts', 'trino.sh');
export { ROOT };
