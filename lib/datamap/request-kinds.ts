/**
 * The request types and jurisdictions lethe knows, as plain constants (no schema library): the
 * data map's request policy is checked against them, the CLI offers them as choices, and the
 * request schemas of lib/rights are built from them.
 */

/** Every right lethe fulfils. */
export const REQUEST_TYPES = [
  'access',
  'portability',
  'erasure',
  'rectification',
  'restriction',
  'restriction-lift',
  'objection',
] as const;

/**
 * The laws a request is made under. `gdpr` (EU), `uk-gdpr` (UK GDPR and the Data Protection Act
 * 2018), `fadp` (the Swiss Federal Act on Data Protection); `ccpa` (the California Consumer
 * Privacy Act as amended by the CPRA, also spelt `us-ca`) and the comprehensive consumer privacy
 * acts of the other US states, named `us-` and the state's postal code. Deadlines: lib/rights/deadlines.ts.
 */
export const JURISDICTIONS = [
  'gdpr',
  'uk-gdpr',
  'fadp',
  'ccpa',
  'us-ca',
  'us-va',
  'us-co',
  'us-ct',
  'us-ut',
  'us-tx',
  'us-or',
  'us-mt',
  'us-ia',
  'us-de',
  'us-nh',
  'us-nj',
  'us-tn',
  'us-mn',
  'us-md',
  'us-in',
  'us-ky',
  'us-ri',
  'us-ne',
] as const;
