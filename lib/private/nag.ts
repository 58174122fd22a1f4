/**
 * Helpers to acknowledge cdk-nag findings precisely. A finding of a rule with several findings per
 * resource (AwsSolutions-IAM5) is acknowledged by its exact id, rendered the way cdk-nag renders it, so
 * a new wildcard nobody reviewed still fails synth.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** Acknowledge each rule id on `scope` (and its children) with one stated reason. */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}

/** `AwsSolutions-IAM5[Action::<action>]` */
export function wildcardAction(action: string): string {
  return `AwsSolutions-IAM5[Action::${action}]`;
}

/** `AwsSolutions-IAM5[Resource::<arn as cdk-nag prints it>]` for an ARN that may hold tokens. */
export function wildcardResource(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}]`;
}

/**
 * Acknowledge, one by one, the wildcard resources (`…/*`) the grants put into policies, with one reason.
 * Only resources of these grants are covered: a wildcard added by anything else still fails synth.
 */
export function acknowledgeGrantWildcards(
  scope: IConstruct,
  reason: string,
  ...grants: ReadonlyArray<iam.Grant>
): void {
  const arns = grants.flatMap((g) =>
    g.principalStatements.flatMap((s) => (s.effect === iam.Effect.ALLOW ? s.resources : [])),
  );
  const ids = [
    ...new Set(arns.filter((arn) => arn.endsWith('*')).map((arn) => wildcardResource(scope, arn))),
  ];
  if (ids.length > 0) acknowledge(scope, reason, ...ids);
}
