import type { DataMap } from '../datamap/schema';
import type { Jurisdiction, RequestType } from './request';

/** What the request policy asks of one request type under one jurisdiction. */
export interface RequestPolicy {
  /** The request waits as `pending-approval`, with no execution, until staff approve it. */
  approval: boolean;
  /** The requester's identity must have been verified (a method and who verified) before it runs. */
  verification: boolean;
}

/** Rights whose fulfilment discloses, changes or destroys data: verified unless the policy says otherwise. */
const VERIFIED_BY_DEFAULT: readonly string[] = [
  'access',
  'portability',
  'erasure',
  'rectification',
  'restriction',
  'restriction-lift',
  'objection',
];

/**
 * The policy for a request type under a jurisdiction: the built-in defaults (no approval;
 * verification for the rights that disclose, change or destroy data), overridden by every rule of
 * the data map's `requestPolicy` that names the type (and the jurisdiction, or none), in order.
 */
export function policyFor(
  dataMap: Pick<DataMap, 'requestPolicy'>,
  type: RequestType,
  jurisdiction: Jurisdiction,
): RequestPolicy {
  const policy: RequestPolicy = { approval: false, verification: VERIFIED_BY_DEFAULT.includes(type) };
  for (const rule of dataMap.requestPolicy ?? []) {
    if (!rule.types.includes(type)) continue;
    if (rule.jurisdictions && !rule.jurisdictions.includes(jurisdiction)) continue;
    if (rule.approval) policy.approval = rule.approval === 'required';
    if (rule.verification) policy.verification = rule.verification === 'required';
  }
  return policy;
}
