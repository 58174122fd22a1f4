/**
 * How the DynamoDB stores (subject keys, erasure requests) name a failed call: every SDK error becomes a
 * {@link KeyStoreUnavailableError} saying what was attempted on which table, so no caller mistakes
 * "cannot read" for "absent". The local stores do the same for files with `guardStore` (`local-files.ts`).
 */
import { KeyStoreUnavailableError } from './store';

/** A DynamoDB store's calls, each failure named "cannot <what> <thing> in <location>: <name>: <message>". */
export interface DynamoDbCalls {
  /** Runs `f` (one or more DynamoDB calls), turning its failure into {@link DynamoDbCalls.unavailable}'s error. */
  call<T>(what: string, f: () => Promise<T>): Promise<T>;
  /** `error` as a {@link KeyStoreUnavailableError}; one the store threw itself passes unchanged. */
  unavailable(what: string, error: unknown): KeyStoreUnavailableError;
}

/**
 * The calls of the store of `thing` (`subject keys`, `erasure requests`) at `location` (`dynamodb:<table>`).
 */
export function dynamoDbCalls(thing: string, location: string): DynamoDbCalls {
  const unavailable = (what: string, error: unknown): KeyStoreUnavailableError => {
    if (error instanceof KeyStoreUnavailableError) return error;
    const e = error as Error;
    return new KeyStoreUnavailableError(`cannot ${what} ${thing} in ${location}: ${e.name}: ${e.message}`, {
      cause: error,
    });
  };
  return {
    unavailable,
    async call(what, f) {
      try {
        return await f();
      } catch (error) {
        throw unavailable(what, error);
      }
    },
  };
}
