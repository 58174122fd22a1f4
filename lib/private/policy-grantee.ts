import type * as iam from 'aws-cdk-lib/aws-iam';

/**
 * A managed policy as the grantee of `grantXxx` methods: every statement a grant adds to its principal
 * lands in the policy, so grants can fill a policy that is reviewed, attached or exported on its own
 * (the producer policy, a persona's policy) instead of a role's inline default policy.
 *
 * Where a grant needs a principal (to fall back to a resource policy) it gets `principal`, the role the
 * policy is attached to; without one, such a grant fails synth instead of granting someone else.
 */
export class PolicyGrantee implements iam.IGrantable {
  readonly grantPrincipal: iam.IPrincipal;

  constructor(policy: iam.ManagedPolicy, principal?: iam.IPrincipal) {
    this.grantPrincipal = new ManagedPolicyPrincipal(policy, principal);
  }
}

class ManagedPolicyPrincipal implements iam.IPrincipal {
  readonly assumeRoleAction: string;
  readonly principalAccount: string | undefined;

  constructor(
    private readonly policy: iam.ManagedPolicy,
    private readonly principal: iam.IPrincipal | undefined,
  ) {
    this.assumeRoleAction = principal?.assumeRoleAction ?? 'sts:AssumeRole';
    this.principalAccount = principal?.principalAccount;
  }

  get grantPrincipal(): iam.IPrincipal {
    return this;
  }

  get policyFragment(): iam.PrincipalPolicyFragment {
    if (!this.principal) {
      throw new Error(
        `${this.policy.node.path}: a grant needs a principal for a resource policy, and this managed policy has none`,
      );
    }
    return this.principal.policyFragment;
  }

  addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}
