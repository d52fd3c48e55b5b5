import type { LetheDeps } from '../deps';
import { exportPackage } from '../rights/export';
import { parseStepInput } from './request-steps';

/*
 * Apart from the other request steps: the zip writer and the multipart upload it needs stay out of
 * the bundles of every other function.
 */

/** ExportPackage (REQUEST_STATES.exportPackage). */
export async function exportPackageStep(deps: LetheDeps, input: unknown): Promise<unknown> {
  const { requestId: id, located } = parseStepInput('exportPackage', input);
  return exportPackage(deps, id, located);
}
