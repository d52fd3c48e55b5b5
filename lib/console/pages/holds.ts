import type { FastifyInstance } from 'fastify';
import { parseIdentityArgument } from '../../datamap/identity';
import { getStore } from '../../datamap/validate';
import {
  checkHoldId,
  checkHoldInput,
  listHolds,
  type PlaceHoldInput,
  placeHold,
  releaseHold,
} from '../../holds';
import { checkField, oneOf, postedForm, text, VALIDATION_ERRORS } from '../forms';
import type { ConsoleContext } from '../server';

/**
 * Adds the Holds page: the list, the form that places a hold (a subject by one identity, or one
 * record), and release. Holds are listed by scope and hashes: the identity placed is never shown.
 */
export function addHoldPages(app: FastifyInstance, context: ConsoleContext): void {
  const { backend } = context;
  const dataMap = backend.deps.dataMap;
  const options = {
    identityType: [
      { value: '', label: 'choose' },
      ...Object.keys(dataMap.identityTypes).map((value) => ({ value, label: value })),
    ],
    store: [
      { value: '', label: 'choose' },
      ...dataMap.stores.map((store) => ({ value: store.id, label: store.id })),
    ],
  };
  const holdsPage = context.formPage('@holds', async () => ({
    title: 'Legal holds',
    section: '/holds',
    holds: await listHolds(backend.deps),
    options,
  }));

  app.get('/holds', async (request, reply) => holdsPage(request, reply, { scope: 'subject' }, {}));

  app.post('/holds', async (request, reply) => {
    const { body, values, errors } = postedForm(request);
    const placedBy = context.staff(request).name;
    const scope = checkField(
      'scope',
      () => oneOf(text(body, 'scope'), ['subject', 'record'], 'scope', 'what to hold'),
      errors,
    );
    const reason = text(body, 'reason');
    if (reason.length < 3) errors.reason = 'give the reason, e.g. Litigation hold, case 2026-0042';
    let input: PlaceHoldInput | undefined;
    if (scope === 'subject') {
      const identityType = text(body, 'identityType');
      const value = text(body, 'identityValue');
      if (identityType === '') errors.identityType = 'choose the type of the identity';
      if (value === '') errors.identityValue = 'type the identity to hold';
      else if (identityType !== '')
        checkField('identityValue', () => parseIdentityArgument(dataMap, `${identityType}=${value}`), errors);
      input = { subject: `${identityType}=${value}`, reason, placedBy };
    } else if (scope === 'record') {
      if (text(body, 'store') === '') errors.store = 'choose the store of the record';
      else checkField('store', () => getStore(dataMap, text(body, 'store')), errors);
      if (text(body, 'key') === '')
        errors.key = 'give the record key: the DynamoDB key as JSON, or the S3 object key';
      input = { storeId: text(body, 'store'), key: text(body, 'key'), reason, placedBy };
    }
    if (input && Object.keys(errors).length === 0) {
      const checked = input;
      // The data map alone decides most of it: which field a refusal belongs to follows from its kind.
      checkField('_form', () => checkHoldInput(dataMap, checked), errors);
      const message = errors._form;
      if (message !== undefined) {
        delete errors._form;
        const field = /reason/i.test(message)
          ? 'reason'
          : scope === 'subject'
            ? 'identityValue'
            : /store/i.test(message) && !/key/i.test(message)
              ? 'store'
              : 'key';
        errors[field] = message;
      }
    }
    if (!input || Object.keys(errors).length) return holdsPage(request, reply, values, errors, 400);
    try {
      await placeHold(backend.deps, input);
    } catch (error) {
      if (!(error instanceof Error) || !VALIDATION_ERRORS.has(error.name)) throw error;
      return holdsPage(request, reply, values, { _form: error.message }, 400);
    }
    return reply.redirect('/holds?done=hold-placed', 303);
  });

  app.post('/holds/:id/release', async (request, reply) => {
    const holdId = (request.params as Record<string, string>).id ?? '';
    try {
      checkHoldId(holdId);
      await releaseHold(backend.deps, holdId, context.staff(request).name);
    } catch (error) {
      if (!(error instanceof Error) || !VALIDATION_ERRORS.has(error.name)) throw error;
      return holdsPage(
        request,
        reply,
        {},
        { _form: error.message },
        error.name === 'HoldNotFoundError' ? 404 : 400,
      );
    }
    return reply.redirect('/holds?done=hold-released', 303);
  });
}
