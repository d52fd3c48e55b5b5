import type { FastifyInstance } from 'fastify';
import { reportCsv, reportHtml } from '../../audit/report';
import { backendPeriodReport, verifyBackendAuditLog } from '../../cli/backends/audit';
import { buildInventory, inventoryCsv } from '../../rights/inventory';
import { barChart } from '../charts';
import { type FieldErrors, text } from '../forms';
import type { ConsoleContext } from '../server';
import { renderInventoryDocument } from '../views';

/** A date the report reads: YYYY-MM-DD (or with a time) that exists. */
function reportDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(value) && !Number.isNaN(Date.parse(value));
}

/** Adds the Audit page (chain status, last anchor, period report with chart and downloads) and the Data inventory. */
export function addAuditPages(app: FastifyInstance, context: ConsoleContext): void {
  const { backend } = context;

  /** The period asked for (default: the current calendar year), with a message per bad field. */
  const period = (query: Record<string, unknown>) => {
    const year = backend.deps.now().getUTCFullYear();
    const values = {
      from: text(query, 'from') || `${year}-01-01`,
      to: text(query, 'to') || `${year + 1}-01-01`,
    };
    const errors: FieldErrors = {};
    if (!reportDate(values.from)) errors.from = 'a date such as 2026-01-01';
    if (!reportDate(values.to)) errors.to = 'a date such as 2027-01-01';
    if (!errors.from && !errors.to && Date.parse(values.to) <= Date.parse(values.from))
      errors.to = 'the day after the period: later than the first day';
    return { values, errors };
  };

  app.get('/audit', async (request, reply) => {
    const { values, errors } = period(request.query as Record<string, unknown>);
    const verification = await verifyBackendAuditLog(backend, undefined);
    const report = Object.keys(errors).length
      ? null
      : await backendPeriodReport(backend, { ...values, now: backend.deps.now() });
    const chart = report
      ? barChart(
          'Requests received and completed per type',
          Object.entries(report.byType).flatMap(([type, figures]) => [
            { label: `${type} received`, value: figures.received },
            { label: `${type} completed`, value: figures.completed },
          ]),
        )
      : null;
    return context.page(
      request,
      reply,
      '@audit',
      { title: 'Audit', section: '/audit', verification, report, chart, values, errors },
      Object.keys(errors).length ? 400 : 200,
    );
  });

  for (const format of ['csv', 'html'] as const) {
    app.get(`/audit/report.${format}`, async (request, reply) => {
      const { values, errors } = period(request.query as Record<string, unknown>);
      if (Object.keys(errors).length)
        return context.page(
          request,
          reply,
          '@message',
          { title: 'Bad period', message: Object.values(errors).join('; ') },
          400,
        );
      const report = await backendPeriodReport(backend, { ...values, now: backend.deps.now() });
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'text/html; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="lethe-report-${values.from.slice(0, 10)}.${format}"`,
        )
        .send(format === 'csv' ? reportCsv(report) : reportHtml(report));
    });
  }

  app.get('/inventory', async (request, reply) =>
    context.page(request, reply, '@inventory', {
      title: 'Data inventory: record of processing activities',
      section: '/inventory',
      inventory: buildInventory(backend.deps.dataMap),
    }),
  );
  app.get('/inventory.csv', async (_request, reply) =>
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="record-of-processing.csv"')
      .send(inventoryCsv(buildInventory(backend.deps.dataMap))),
  );
  app.get('/inventory.html', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-disposition', 'attachment; filename="record-of-processing.html"')
      .send(renderInventoryDocument(backend.deps.dataMap, backend.deps.now(), context.views)),
  );
}
