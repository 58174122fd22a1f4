/**
 * The constructs need the CDK beside them: `aws-cdk-lib`, `constructs` and `cdk-nag` are optional peer
 * dependencies of the package, since its CLI and producers do without them. `lib/index.ts` imports this
 * module first, so a project that has not installed them is told which to install, instead of Node's
 * `Cannot find module 'aws-cdk-lib/aws-iam'` from somewhere inside the package.
 */

/** The packages the constructs import, as a project installs them. */
export const CDK_PEERS = ['aws-cdk-lib', 'constructs', 'cdk-nag'] as const;

/** The peers `resolve` cannot find (by default: from this package, as Node would load them). */
export function missingPeers(resolve: (name: string) => string = require.resolve): string[] {
  return CDK_PEERS.filter((name) => {
    try {
      resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/** The error for missing peers: what is missing, and the command that installs it. */
export function missingPeersMessage(missing: readonly string[]): string {
  return `loglake/constructs needs ${missing.join(', ')} in your project: they are optional peer dependencies of loglake (its CLI and producers do without them). Install them with: npm install ${missing.join(' ')}`;
}

const missing = missingPeers();
if (missing.length > 0) throw new Error(missingPeersMessage(missing));
