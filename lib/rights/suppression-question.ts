import * as z from 'zod';
import { type Identity, InvalidIdentityError, normaliseIdentity } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { InvalidRequestError } from './errors';
import { objectionScopeSchema } from './request';
import { checkSuppression, type SuppressionAnswer } from './suppression';

/** A question to the suppression list, as the CLI and the read-only function take it. */
export const suppressionQuestionSchema = z
  .object({
    subject: z
      .array(z.object({ type: z.string().min(1), value: z.string() }).strict())
      .min(1, 'give at least one identity, e.g. --subject email=ada@example.com'),
    scope: objectionScopeSchema.optional(),
  })
  .strict();

/**
 * Parses a question (identities normalised by the data map's identity types) and answers it
 * from the suppression list.
 * @throws InvalidRequestError naming the problem (identities by type, never by value)
 */
export async function answerSuppressionQuestion(
  deps: Pick<LetheDeps, 'doc' | 'resources' | 'keys' | 'dataMap'>,
  input: unknown,
): Promise<SuppressionAnswer> {
  const parsed = suppressionQuestionSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) =>
        `${issue.path.join('.') || 'question'}: ${issue.path.includes('value') ? 'invalid value' : issue.message}`,
    );
    throw new InvalidRequestError(`invalid question: ${issues.join('; ')}`, issues);
  }
  const identities: Identity[] = [];
  const issues: string[] = [];
  for (const given of parsed.data.subject) {
    try {
      identities.push(normaliseIdentity(deps.dataMap, given.type, given.value));
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
      issues.push(error.message);
    }
  }
  if (issues.length > 0) throw new InvalidRequestError(`invalid subject: ${issues.join('; ')}`, issues);
  return checkSuppression(deps, identities, parsed.data.scope);
}
