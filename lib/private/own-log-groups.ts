/**
 * The lake's own log groups, found in its construct tree: never to be subscribed to the lake's streams
 * (it would feed on its own output). Used by `lib/subscriptions.ts` and its synth-time checks.
 */
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/** The names of the log groups of `scope`: its log group resources, and the default group of each function without one. */
export function ownLogGroupNames(scope: IConstruct): string[] {
  const names: string[] = [];
  for (const c of scope.node.findAll()) {
    if (c instanceof logs.CfnLogGroup) names.push(c.ref);
    else if (c instanceof lambda.CfnFunction) {
      const config = Stack.of(c).resolve(c.loggingConfig) as { logGroup?: unknown } | undefined;
      if (config?.logGroup === undefined) names.push(`/aws/lambda/${c.ref}`);
    }
  }
  return names;
}

/**
 * What is known of the name of each log group of `scope` at synth: the text up to the first value only
 * CloudFormation knows, and whether that is the whole name. A name CloudFormation generates starts with
 * the stack's name (`<stack>-<logical id>-<suffix>`), so that much is known of it too.
 */
export function ownLogGroupNameHeads(scope: IConstruct): Array<{ head: string; whole: boolean }> {
  const stack = Stack.of(scope);
  const known = (explicit: unknown, before = '') => {
    // An L2 log group's name is a token that resolves to nothing when CloudFormation names it.
    const resolved: unknown = stack.resolve(explicit);
    if (resolved === undefined) return { head: `${before}${stack.stackName}-`, whole: false };
    const text = `${before}${canonical(resolved)}`;
    const at = text.indexOf('\u00ab');
    return at < 0 ? { head: text, whole: true } : { head: text.slice(0, at), whole: false };
  };
  const heads: Array<{ head: string; whole: boolean }> = [];
  for (const c of scope.node.findAll()) {
    if (c instanceof logs.CfnLogGroup) heads.push(known(c.logGroupName));
    else if (c instanceof lambda.CfnFunction) {
      const config = stack.resolve(c.loggingConfig) as { logGroup?: unknown } | undefined;
      if (config?.logGroup === undefined) heads.push(known(c.functionName, '/aws/lambda/'));
    }
  }
  return heads;
}

/** Whether a log group named as `own` says may start with `prefix`. */
export function mayStartWith(own: { head: string; whole: boolean }, prefix: string): boolean {
  return own.head.startsWith(prefix) || (!own.whole && prefix.startsWith(own.head));
}

/**
 * A resolved CloudFormation value as one comparable string: `Fn::Join` with an empty separator
 * concatenated, any other intrinsic (`Ref`, `Fn::GetAtt`) as its JSON in guillemets.
 */
export function canonical(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const join = (v as Record<string, unknown>)['Fn::Join'];
    if (Array.isArray(join) && join[0] === '' && Array.isArray(join[1])) {
      return (join[1] as unknown[]).map(canonical).join('');
    }
  }
  return `\u00ab${JSON.stringify(v)}\u00bb`;
}
