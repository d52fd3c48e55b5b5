export { AwsBackend, AwsTargetError } from './aws';
export type { LetheBackend, SweepOutcome, SweepRequest } from './backend';
export { LocalBackend } from './local';
