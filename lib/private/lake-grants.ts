import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Category, Persona, StreamName } from '../../src/schema';
import type { LogLakeCatalog } from '../catalog';
import type { LogLakeQuery } from '../query';
import type { LogLakeStorage } from '../storage';
import { combineGrants } from './grants';

/** The parts of a lake whose grants make up reading and querying. */
export interface LakeParts {
  readonly storage: LogLakeStorage;
  readonly catalog: LogLakeCatalog;
  readonly query: LogLakeQuery;
}

/**
 * Read `categories`: their objects (storage) and the tables of the streams carrying them (catalog). A
 * locked category is read from the `logs` table too, which projects every category: the transform keeps
 * there what it could not forward to the audit stream.
 */
export function grantLakeRead(
  parts: LakeParts,
  grantee: iam.IGrantable,
  categories: readonly Category[],
): iam.Grant {
  const streams = [...new Set(categories.flatMap((c): StreamName[] => ['logs', parts.storage.placement[c]]))];
  return combineGrants(grantee, 'read categories', [
    parts.storage.grantReadCategories(grantee, categories),
    parts.catalog.grantReadTables(grantee, streams),
  ]);
}

/** Query `categories` with Athena: a workgroup (the persona's, or the main one) and read access to them. */
export function grantLakeQuery(
  parts: LakeParts,
  grantee: iam.IGrantable,
  categories: readonly Category[],
  persona?: Persona,
): iam.Grant {
  return parts.query.grantQuery(grantee, persona).combine(grantLakeRead(parts, grantee, categories));
}
