import type { DataMap } from '../datamap/schema';
import type { Jurisdiction, RequestType } from './request';

/** What the request policy asks of one request type under one jurisdiction. */
export interface RequestPolicy {
  /** The request waits as `pending-approval`, with no execution, until staff approve it. */
  approval: boolean;
  /** The requester's identity must have been verified (a method and who verified) before it runs. */
  verification: boolean;
}

/**
 * The policy for a request type under a jurisdiction: the built-in defaults (no approval;
 * verification for every right, since each discloses, changes or destroys data or stops
 * processing; Verify exempts an opt-out of sale or sharing, see needsVerification), overridden by every rule of
 * the data map's `requestPolicy` that names the type (and the jurisdiction, or none), in order.
 */
export function policyFor(
  dataMap: Pick<DataMap, 'requestPolicy'>,
  type: RequestType,
  jurisdiction: Jurisdiction,
): RequestPolicy {
  const policy: RequestPolicy = { approval: false, verification: true };
  for (const rule of dataMap.requestPolicy ?? []) {
    if (!rule.types.includes(type)) continue;
    if (rule.jurisdictions && !rule.jurisdictions.includes(jurisdiction)) continue;
    if (rule.approval) policy.approval = rule.approval === 'required';
    if (rule.verification) policy.verification = rule.verification === 'required';
  }
  return policy;
}
