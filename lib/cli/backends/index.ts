export { AwsBackend, type AwsBackendClients, AwsTargetError } from './aws';
export type { LetheBackend, SubmitOptions, SweepOutcome, SweepRequest } from './backend';
export { LocalBackend } from './local';
