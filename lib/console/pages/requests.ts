import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkActorName } from '../../audit/free-text';
import { auditDepsOf, readAuditEvents } from '../../audit/log';
import { auditTimeline } from '../../cli/backends/audit';
import { type Identity, parseIdentityArgument } from '../../datamap/identity';
import { checkCertificate } from '../../rights/certificate-check';
import {
  FINAL_STATUSES,
  jurisdictionSchema,
  type RequestRecord,
  type RequestStatus,
  requestIdSchema,
  requestStatusSchema,
  type SubmitRequestInput,
  verificationSchema,
} from '../../rights/request';
import { REQUEST_TYPES } from '../../rights/request-values';
import { getRequest, listRequests } from '../../rights/requests-table';
import type { RequestSummary } from '../../rights/summary';
import { actionsFor, REQUEST_ACTIONS } from '../actions';
import { timelineChart } from '../charts';
import {
  checkField,
  FieldError,
  type FieldErrors,
  type FormBody,
  oneOf,
  postedForm,
  text,
  texts,
  VALIDATION_ERRORS,
} from '../forms';
import type { ConsoleContext } from '../server';

const PAGE_SIZE = 25;
const IDENTITY_ROWS = 3;
const CHANNELS = ['web', 'email', 'phone', 'mail', 'in-person', 'api', 'cli'] as const;
const DAY_MS = 86_400_000;
/** Statuses in which the workflow is (or is about to be) running: the page says to reload it. */
const RUNNING_STATUSES: readonly RequestStatus[] = ['received', 'verifying', 'in-progress'];

const choices = (values: readonly string[], any?: string) => [
  ...(any ? [{ value: '', label: any }] : []),
  ...values.map((value) => ({ value, label: value })),
];

/** "12 days left", "3 days overdue", or "answered" for a request that has ended. */
export function daysLeft(summary: Pick<RequestSummary, 'dueAt' | 'status'>, now: Date): string {
  if (FINAL_STATUSES.includes(summary.status)) return 'answered';
  const days = Math.ceil((Date.parse(summary.dueAt) - now.getTime()) / DAY_MS);
  return days >= 0 ? `${days} day(s) left` : `${-days} day(s) overdue`;
}

/** The first keyed hash of a request's subject, shortened: how lists name a subject without identifying them. */
function shortHash(record: Pick<RequestRecord, 'subjectHashes'>): string {
  const hash = record.subjectHashes?.[0];
  return hash ? `${hash.slice(0, 12)}…` : '—';
}

interface ListFilters {
  status: string;
  type: string;
  jurisdiction: string;
  overdue: string;
  dueWithin: string;
  page: string;
}

function listQuery(filters: ListFilters, page: number): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, page: String(page) }))
    if (value !== '' && !(name === 'page' && value === '1')) params.set(name, value);
  const query = params.toString();
  return `/requests${query ? `?${query}` : ''}`;
}

/** Adds the Requests pages: the list with filters and paging, the submit form, a request's page and its actions. */
export function addRequestPages(app: FastifyInstance, context: ConsoleContext): void {
  const { backend } = context;
  const dataMap = backend.deps.dataMap;
  const options = {
    status: choices(requestStatusSchema.options, 'any status'),
    type: choices(REQUEST_TYPES, 'any type'),
    jurisdiction: choices(jurisdictionSchema.options, 'any jurisdiction'),
    overdue: [
      { value: '', label: 'either' },
      { value: 'yes', label: 'overdue only' },
    ],
    identityType: choices(Object.keys(dataMap.identityTypes), 'none'),
    verification: choices(verificationSchema.shape.method.options),
    channel: choices(CHANNELS),
  };

  app.get('/requests', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const filters: ListFilters = {
      status: text(query, 'status'),
      type: text(query, 'type'),
      jurisdiction: text(query, 'jurisdiction'),
      overdue: text(query, 'overdue'),
      dueWithin: text(query, 'dueWithin'),
      page: text(query, 'page'),
    };
    const errors: FieldErrors = {};
    const pick = (name: keyof ListFilters, allowed: readonly string[]) =>
      filters[name] === '' ? '' : checkField(name, () => oneOf(filters[name], allowed, name, name), errors);
    const status = pick('status', requestStatusSchema.options) as RequestStatus | '' | undefined;
    pick('type', REQUEST_TYPES);
    pick('jurisdiction', jurisdictionSchema.options);
    pick('overdue', ['yes']);
    if (filters.dueWithin !== '' && !/^\d{1,4}$/.test(filters.dueWithin))
      errors.dueWithin = 'give a whole number of days, e.g. 7';
    const page = /^\d{1,6}$/.test(filters.page) && Number(filters.page) > 0 ? Number(filters.page) : 1;
    const now = backend.deps.now();
    const records = Object.keys(errors).length
      ? []
      : (await listRequests(backend.deps, status ? { status } : {})).filter(
          (record) =>
            (filters.type === '' || record.type === filters.type) &&
            (filters.jurisdiction === '' || record.jurisdiction === filters.jurisdiction) &&
            (filters.overdue === '' ||
              (!FINAL_STATUSES.includes(record.status) && Date.parse(record.dueAt) < now.getTime())) &&
            (filters.dueWithin === '' ||
              (!FINAL_STATUSES.includes(record.status) &&
                Date.parse(record.dueAt) - now.getTime() <= Number(filters.dueWithin) * DAY_MS)),
        );
    const pages = Math.max(1, Math.ceil(records.length / PAGE_SIZE));
    const shown = records.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    return context.page(
      request,
      reply,
      '@requests',
      {
        title: 'Requests',
        section: '/requests',
        filters,
        options,
        errors,
        total: records.length,
        rows: shown.map((record) => ({
          requestId: record.requestId,
          subjectHash: shortHash(record),
          type: record.type,
          status: record.status,
          jurisdiction: record.jurisdiction,
          receivedAt: record.receivedAt.slice(0, 16).replace('T', ' '),
          dueAt: record.dueAt.slice(0, 10),
          daysLeft: daysLeft(record, now),
        })),
        pager: {
          page,
          pages,
          previous: page > 1 ? listQuery(filters, page - 1) : null,
          next: page < pages ? listQuery(filters, page + 1) : null,
        },
      },
      Object.keys(errors).length ? 400 : 200,
    );
  });

  const newForm = context.formPage('@request-new', () => ({
    title: 'Submit a request',
    section: '/requests',
    options,
    identityRows: IDENTITY_ROWS,
  }));

  app.get('/requests/new', async (request, reply) =>
    newForm(
      request,
      reply,
      { verifiedBy: context.staff(request).name, channel: 'web', verification: 'other' },
      {},
    ),
  );

  app.post('/requests', async (request, reply) => {
    const { body, values, errors } = postedForm(request);
    const type = checkField(
      'type',
      () => oneOf(text(body, 'type'), REQUEST_TYPES, 'type', 'the right exercised'),
      errors,
    );
    const jurisdiction = checkField(
      'jurisdiction',
      () => oneOf(text(body, 'jurisdiction'), jurisdictionSchema.options, 'jurisdiction', 'the law'),
      errors,
    );
    const method = checkField(
      'verification',
      () =>
        oneOf(
          text(body, 'verification'),
          verificationSchema.shape.method.options,
          'verification',
          'how the requester was verified',
        ),
      errors,
    );
    const channel = checkField(
      'channel',
      () => oneOf(text(body, 'channel'), CHANNELS, 'channel', 'how the request arrived'),
      errors,
    );
    const verifiedBy = checkField(
      'verifiedBy',
      () => checkActorName(text(body, 'verifiedBy'), 'verified by'),
      errors,
    );
    const requestId = text(body, 'requestId');
    if (requestId !== '' && !requestIdSchema.safeParse(requestId).success)
      errors.requestId = 'request ids are 8 to 64 letters, digits, - or _';
    const identityTypes = texts(body, 'identityType');
    const identityValues = texts(body, 'identityValue');
    const subject: Identity[] = [];
    for (let index = 0; index < Math.max(identityTypes.length, identityValues.length); index++) {
      const identityType = identityTypes[index] ?? '';
      const value = identityValues[index] ?? '';
      if (identityType === '' && value === '') continue;
      if (identityType === '' || value === '') {
        errors[`identity${index}`] =
          identityType === '' ? 'choose the type of this identity' : 'type the value of this identity';
        continue;
      }
      const identity = checkField(
        `identity${index}`,
        () => parseIdentityArgument(dataMap, `${identityType}=${value}`),
        errors,
      );
      if (identity) subject.push(identity);
    }
    if (subject.length === 0 && !Object.keys(errors).some((name) => name.startsWith('identity')))
      errors.identity0 = 'give at least one identity of the subject, e.g. email and ada@example.com';
    if (Object.keys(errors).length) return newForm(request, reply, values, errors, 400);
    const input: SubmitRequestInput = {
      type: type as SubmitRequestInput['type'],
      subject,
      jurisdiction: jurisdiction as SubmitRequestInput['jurisdiction'],
      channel: channel as SubmitRequestInput['channel'],
      verification: {
        method: method as NonNullable<SubmitRequestInput['verification']>['method'],
        verifiedBy: verifiedBy as string,
      },
      submittedBy: context.staff(request).name,
      ...(requestId !== '' ? { requestId } : {}),
    };
    try {
      // Answered once the request is recorded and started: its page shows the workflow's progress.
      const { summary } = await backend.submit(input, { wait: false });
      return reply.redirect(`/requests/${encodeURIComponent(summary.requestId)}?done=submitted`, 303);
    } catch (error) {
      if (!(error instanceof Error) || !VALIDATION_ERRORS.has(error.name)) throw error;
      return newForm(request, reply, values, { _form: error.message }, 400);
    }
  });

  /** A request id from the path, or a 404 page for what cannot be one. */
  const requestIdOf = (request: FastifyRequest): string => {
    const id = (request.params as Record<string, string>).id ?? '';
    if (!requestIdSchema.safeParse(id).success) {
      const error = new Error(
        'There is no request with that id: request ids are 8 to 64 letters, digits, - or _.',
      );
      error.name = 'RequestNotFoundError';
      throw error;
    }
    return id;
  };

  const requestPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    requestId: string,
    form: { values: Record<string, unknown>; errors: FieldErrors } = { values: {}, errors: {} },
    status = 200,
  ) => {
    const summary = await backend.status(requestId);
    const record = await getRequest(backend.deps, requestId);
    const timeline = (await auditTimeline(backend, requestId))?.entries ?? [];
    const certificate = record.certificate
      ? checkCertificate(record, await readAuditEvents(auditDepsOf(backend.deps), { requestId }))
      : null;
    const actions = actionsFor(summary.status).map((action) => ({
      ...action,
      fields: action.fields.map((field) =>
        field.kind === 'stores'
          ? { ...field, stores: summary.review?.stores.map((store) => store.store) ?? [] }
          : field,
      ),
    }));
    return context.page(
      request,
      reply,
      '@request',
      {
        title: `Request ${requestId}`,
        section: '/requests',
        summary,
        subjectHashes: (record.subjectHashes ?? []).map((hash) => `${hash.slice(0, 16)}…`),
        entered: [],
        daysLeft: daysLeft(summary, backend.deps.now()),
        running: RUNNING_STATUSES.includes(summary.status),
        certificate,
        review:
          summary.status === 'pending-review' && summary.review
            ? {
                stores: summary.review.stores.map((store) => ({
                  store: store.store,
                  records: store.records,
                  paths: store.paths
                    .map((path) =>
                      [
                        path.from.identity,
                        ...path.steps.map(
                          (step) => `${step.store}.${step.attribute} (${step.trust}) → ${step.identity}`,
                        ),
                      ].join(' → '),
                    )
                    .join('; '),
                })),
              }
            : null,
        actions,
        timeline,
        chart: timelineChart(timeline),
        ...form,
      },
      status,
    );
  };

  app.get('/requests/:id', async (request, reply) => requestPage(request, reply, requestIdOf(request)));

  app.get('/requests/:id/export', async (request, reply) => {
    const summary = await backend.status(requestIdOf(request));
    const location = summary.export;
    if (!location || location.deletedAt || (!location.path && !location.url))
      return context.page(
        request,
        reply,
        '@message',
        { title: 'No export', message: 'This request has no export package to download.' },
        404,
      );
    if (!location.path) return reply.redirect(location.url as string, 303);
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="lethe-export-${summary.requestId}.zip"`)
      .send(createReadStream(location.path));
  });

  app.get('/requests/:id/certificate.json', async (request, reply) => {
    const requestId = requestIdOf(request);
    const record = await getRequest(backend.deps, requestId);
    const checked = checkCertificate(record, await readAuditEvents(auditDepsOf(backend.deps), { requestId }));
    return reply
      .type('application/json')
      .header('content-disposition', `attachment; filename="certificate-${requestId}.json"`)
      .send(`${JSON.stringify(checked, null, 2)}\n`);
  });

  for (const action of REQUEST_ACTIONS) {
    app.post(`/requests/:id/${action.name}`, async (request, reply) => {
      const requestId = requestIdOf(request);
      const body = (request.body ?? {}) as FormBody;
      const summary = await backend.status(requestId);
      const values = { ...body, _csrf: undefined };
      if (!action.allowedIn.includes(summary.status)) {
        return requestPage(
          request,
          reply,
          requestId,
          { values, errors: { _form: `A ${summary.status} request cannot be given "${action.label}".` } },
          409,
        );
      }
      try {
        await action.run(backend, summary, context.staff(request).name, body);
      } catch (error) {
        if (error instanceof FieldError) {
          const field = error.field.includes(':') ? error.field : `${action.name}:${error.field}`;
          return requestPage(request, reply, requestId, { values, errors: { [field]: error.message } }, 400);
        }
        if (error instanceof Error && VALIDATION_ERRORS.has(error.name))
          return requestPage(request, reply, requestId, { values, errors: { _form: error.message } }, 400);
        throw error;
      }
      return reply.redirect(`/requests/${encodeURIComponent(requestId)}?done=action-done`, 303);
    });
  }
}
