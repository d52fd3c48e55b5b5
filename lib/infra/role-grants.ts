import { Annotations, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * IAM's limits, counted as IAM counts them (characters of the policy without whitespace), with a
 * margin: the role's inline policies together (10,240), one managed policy (6,144), and the
 * managed policies one role may have without a quota increase (10).
 */
export const IAM_LIMITS = { inline: 10_240, managed: 6_144, managedPerRole: 10 } as const;
/** Room left in the inline policies for what CDK adds itself (X-Ray, the log group grant). */
const INLINE_BUDGET = 8_000;
/** Room left in a managed policy for its document's own fields. */
const MANAGED_BUDGET = IAM_LIMITS.managed - 100;
/** A statement is cut below this, so statements pack into policies with little waste. */
const STATEMENT_BUDGET = 2_000;

/**
 * The longest a CloudFormation value can become once deployed, for sizing a policy before it is:
 * the pseudo parameters at their longest (partition `aws-us-gov`, region `ap-southeast-3`, ...),
 * any other reference as a long ARN.
 */
const PSEUDO_LENGTHS: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 17,
};
const REFERENCE_LENGTH = 200;

function deployedLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + deployedLength(item) + 3, 2);
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (typeof node.Ref === 'string') return PSEUDO_LENGTHS[node.Ref] ?? REFERENCE_LENGTH;
    const join = node['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].reduce<number>((sum, item) => sum + deployedLength(item) + join[0].length, 0);
    if (node['Fn::GetAtt'] || node['Fn::ImportValue'] || node['Fn::Sub']) return REFERENCE_LENGTH;
    return Object.entries(node).reduce((sum, [key, item]) => sum + key.length + 4 + deployedLength(item), 2);
  }
  return 4;
}

/** The size a statement will have in the deployed policy, at most. */
function deployedSize(scope: Stack, statement: iam.PolicyStatement): number {
  return deployedLength(scope.resolve(statement.toStatementJson()));
}

/**
 * The permissions one role is granted, collected and then written as few statements as they
 * allow. Granted store by store, a data map of a few hundred stores would give each role a few
 * thousand statements: CloudFormation's template limit (1 MB) and IAM's policy limits (10,240
 * characters inline, 6,144 per managed policy, 10 managed policies per role) are then reached long
 * before the stores run out. Grouped, every resource appears once: in the one statement that
 * lists every resource with the same actions and conditions.
 *
 * The grouping allows exactly the (action, resource, condition) combinations that were granted,
 * no more: a statement is the product of its actions and resources, and only resources granted
 * the very same actions under the very same conditions share one.
 */
export class RoleGrants {
  /** Per condition (as JSON), per resource, the actions granted on it. */
  private readonly byCondition = new Map<
    string,
    { conditions?: Record<string, unknown>; actions: Map<string, Set<string>> }
  >();

  constructor(readonly role: iam.Role) {}

  /** Allows `actions` on every one of `resources`, under `conditions` when given. */
  allow(
    actions: readonly string[],
    resources: readonly string[],
    conditions?: Record<string, unknown>,
  ): void {
    if (actions.length === 0 || resources.length === 0) return;
    const key = conditions ? JSON.stringify(conditions) : '';
    let group = this.byCondition.get(key);
    if (!group) {
      group = { ...(conditions ? { conditions } : {}), actions: new Map() };
      this.byCondition.set(key, group);
    }
    for (const resource of resources) {
      const granted = group.actions.get(resource) ?? new Set<string>();
      for (const action of actions) granted.add(action);
      group.actions.set(resource, granted);
    }
  }

  /** The collected grants as statements: one per distinct set of actions and conditions. */
  statements(): iam.PolicyStatement[] {
    const statements: iam.PolicyStatement[] = [];
    for (const group of this.byCondition.values()) {
      const byActions = new Map<string, { actions: string[]; resources: string[] }>();
      for (const [resource, granted] of group.actions) {
        const actions = [...granted].sort();
        const key = actions.join(' ');
        const statement = byActions.get(key) ?? { actions, resources: [] };
        statement.resources.push(resource);
        byActions.set(key, statement);
      }
      for (const { actions, resources } of byActions.values()) {
        statements.push(
          new iam.PolicyStatement({
            actions,
            resources,
            ...(group.conditions ? { conditions: group.conditions } : {}),
          }),
        );
      }
    }
    return statements;
  }

  /**
   * Adds the collected statements to the role, after every grant, once: into its default policy
   * when they fit there; else as many as fit into an inline policy of their own (`Access`) and the
   * rest into managed policies of the role (`Access1`, ...), each packed up to IAM's size limit. CDK would split an
   * oversized default policy itself, but it sizes every reference as 150 characters, which
   * underfills most policies, and cannot cut a statement too large on its own.
   */
  apply(): void {
    const stack = Stack.of(this.role);
    const statements = this.statements().flatMap((statement) => this.cut(stack, statement));
    const sized = statements.map((statement) => ({ statement, size: deployedSize(stack, statement) }));
    if (sized.reduce((total, { size }) => total + size, 0) <= INLINE_BUDGET) {
      for (const { statement } of sized) this.role.addToPrincipalPolicy(statement);
      return;
    }
    // First fit, largest first: the inline policy, then as few managed policies as will hold the rest.
    const inline = { statements: [] as iam.PolicyStatement[], size: 0 };
    const documents: { statements: iam.PolicyStatement[]; size: number }[] = [];
    for (const { statement, size } of [...sized].sort((a, b) => b.size - a.size)) {
      const document =
        inline.size + size <= INLINE_BUDGET
          ? inline
          : documents.find((candidate) => candidate.size + size <= MANAGED_BUDGET);
      if (document) {
        document.statements.push(statement);
        document.size += size;
      } else {
        documents.push({ statements: [statement], size });
      }
    }
    // A policy of its own: CDK would split the role's default policy again, by its own estimate.
    new iam.Policy(this.role, 'Access', {
      document: new iam.PolicyDocument({ statements: inline.statements }),
      roles: [this.role],
    });
    documents.forEach((document, index) => {
      new iam.ManagedPolicy(this.role, `Access${index + 1}`, {
        description: `lethe: what ${this.role.node.scope?.node.id ?? 'this function'} may do (${index + 1} of ${documents.length})`,
        document: new iam.PolicyDocument({ statements: document.statements }),
        roles: [this.role],
      });
    });
    if (documents.length > IAM_LIMITS.managedPerRole) {
      Annotations.of(this.role).addWarningV2(
        'lethe:managedPolicies',
        `${documents.length} managed policies for the data map's stores: more than the ${IAM_LIMITS.managedPerRole} a role may have without a quota increase`,
      );
    }
  }

  /** The statement, cut into statements over parts of its resources that each fit STATEMENT_BUDGET. */
  private cut(stack: Stack, statement: iam.PolicyStatement): iam.PolicyStatement[] {
    if (deployedSize(stack, statement) <= STATEMENT_BUDGET) return [statement];
    const conditions = statement.conditions as Record<string, unknown>;
    const over = (resources: string[]) =>
      new iam.PolicyStatement({
        actions: statement.actions,
        resources,
        ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
      });
    const base = deployedSize(stack, over([])) + '"Resource":[],'.length;
    const parts: string[][] = [];
    let part: string[] = [];
    let size = base;
    for (const resource of statement.resources) {
      const length = deployedLength(stack.resolve(resource)) + 3;
      if (part.length > 0 && size + length > STATEMENT_BUDGET) {
        parts.push(part);
        part = [];
        size = base;
      }
      part.push(resource);
      size += length;
    }
    if (part.length > 0) parts.push(part);
    return parts.map(over);
  }
}
