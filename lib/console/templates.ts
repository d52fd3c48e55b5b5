/**
 * The console's templates (Eta: `<%= %>` escapes, `<%~ %>` is used only for the output of other
 * templates). Kept as strings in code so the console runs from the sources as they ship, with no
 * build or copy step.
 */

const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %> · lethe console</title>
<link rel="stylesheet" href="/static/console.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand">lethe console</p>
<% if (it.staff) { %>
<nav aria-label="Sections"><ul>
<% for (const [href, name] of [['/requests', 'Requests'], ['/holds', 'Holds'], ['/sweeps', 'Sweeps'], ['/audit', 'Audit'], ['/inventory', 'Data inventory']]) { %>
<li><a href="<%= href %>"<% if (it.section === href) { %> aria-current="page"<% } %>><%= name %></a></li>
<% } %>
</ul></nav>
<p class="who">Signed in as <strong><%= it.staff.name %></strong><% if (!it.staff.canAct) { %> (read only)<% } %> · <%= it.target %></p>
<% } %>
</header>
<main id="main">
<h1><%= it.title %></h1>
<% if (it.notice) { %><p class="notice" role="status"><%= it.notice %></p><% } %>
<%~ it.body %>
</main>
</body>
</html>`;

/**
 * One form field with its label and, when the input was refused, the message beside it. Its data
 * comes as `f`: Eta's include merges the including template's data in, which must not leak into a field.
 */
const FIELD = `<div class="field<% if (it.f.error) { %> invalid<% } %>">
<label for="<%= it.f.id %>"><%= it.f.label %></label>
<% const described = it.f.error ? it.f.id + '-error' : (it.f.hint ? it.f.id + '-hint' : ''); %>
<% if (it.f.options) { %>
<select id="<%= it.f.id %>" name="<%= it.f.name %>"<% if (described) { %> aria-describedby="<%= described %>"<% } %><% if (it.f.error) { %> aria-invalid="true"<% } %>>
<% for (const option of it.f.options) { %><option value="<%= option.value %>"<% if (String(option.value) === String(it.f.value ?? '')) { %> selected<% } %>><%= option.label %></option><% } %>
</select>
<% } else { %>
<input id="<%= it.f.id %>" name="<%= it.f.name %>" type="<%= it.f.type || 'text' %>" value="<%= it.f.value ?? '' %>"<% if (described) { %> aria-describedby="<%= described %>"<% } %><% if (it.f.error) { %> aria-invalid="true"<% } %><% if (it.f.autocomplete) { %> autocomplete="<%= it.f.autocomplete %>"<% } %>>
<% } %>
<% if (it.f.hint && !it.f.error) { %><p class="hint" id="<%= it.f.id %>-hint"><%= it.f.hint %></p><% } %>
<% if (it.f.error) { %><p class="error" id="<%= it.f.id %>-error"><%= it.f.error %></p><% } %>
</div>`;

const CSRF = `<input type="hidden" name="_csrf" value="<%= it.csrf %>">`;

const FORM_ERROR = `<% if (it.errors && it.errors._form) { %><p class="error" role="alert"><%= it.errors._form %></p><% } %>`;

const CHART = `<figure class="chart">
<svg role="img" aria-labelledby="<%= it.id %>-title" width="<%= it.chart.width %>" height="<%= it.chart.height %>" viewBox="0 0 <%= it.chart.width %> <%= it.chart.height %>" xmlns="http://www.w3.org/2000/svg">
<title id="<%= it.id %>-title"><%= it.chart.description %></title>
<% for (const bar of it.chart.bars) { %>
<g><title><%= bar.title %></title>
<text x="4" y="<%= bar.y + bar.height - 3 %>" class="bar-label"><%= bar.label %></text>
<rect x="<%= bar.x.toFixed(1) %>" y="<%= bar.y %>" width="<%= bar.width.toFixed(1) %>" height="<%= bar.height %>" class="<%= bar.failed ? 'bar failed' : 'bar' %>"></rect>
</g>
<% } %>
<% for (const tick of it.chart.ticks) { %><text x="<%= tick.x.toFixed(1) %>" y="<%= tick.y %>" text-anchor="<%= tick.anchor %>" class="tick"><%= tick.text %></text><% } %>
</svg>
<figcaption><%= it.chart.description %></figcaption>
</figure>`;

const PAGER = `<nav aria-label="Pages" class="pager">
<% if (it.previous) { %><a href="<%= it.previous %>">Previous page</a><% } %>
<span>Page <%= it.page %> of <%= it.pages %></span>
<% if (it.next) { %><a href="<%= it.next %>">Next page</a><% } %>
</nav>`;

const MESSAGE = `<% layout('@layout', it) %><p><%= it.message %></p>`;

const LOGIN = `<% layout('@layout', it) %>
<p>Say who you are: every action you take here is recorded in the audit log under this name.</p>
<form method="post" action="/login">
<input type="hidden" name="token" value="<%= it.token %>">
<%~ include('@field', { f: { id: 'name', name: 'name', label: 'Your name', value: it.values.name, error: it.errors.name, autocomplete: 'name' } }) %>
<button type="submit">Sign in</button>
</form>`;

const REQUESTS = `<% layout('@layout', it) %>
<% if (it.staff.canAct) { %><p><a class="button" href="/requests/new">Submit a request</a></p><% } %>
<form method="get" action="/requests" class="filters">
<fieldset><legend>Filter</legend>
<%~ include('@field', { f: { id: 'status', name: 'status', label: 'Status', value: it.filters.status, options: it.options.status, error: it.errors.status } }) %>
<%~ include('@field', { f: { id: 'type', name: 'type', label: 'Type', value: it.filters.type, options: it.options.type, error: it.errors.type } }) %>
<%~ include('@field', { f: { id: 'jurisdiction', name: 'jurisdiction', label: 'Jurisdiction', value: it.filters.jurisdiction, options: it.options.jurisdiction, error: it.errors.jurisdiction } }) %>
<%~ include('@field', { f: { id: 'overdue', name: 'overdue', label: 'Overdue', value: it.filters.overdue, options: it.options.overdue, error: it.errors.overdue } }) %>
<%~ include('@field', { f: { id: 'dueWithin', name: 'dueWithin', label: 'Due within (days)', value: it.filters.dueWithin, error: it.errors.dueWithin, hint: 'open requests due in this many days or fewer' } }) %>
<button type="submit">Apply</button>
</fieldset>
</form>
<% if (it.rows.length === 0) { %><p>No requests match.</p><% } else { %>
<table>
<caption><%= it.total %> request(s)</caption>
<thead><tr><th scope="col">Request</th><th scope="col">Subject (keyed hash)</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Jurisdiction</th><th scope="col">Received</th><th scope="col">Due</th><th scope="col">Days left</th></tr></thead>
<tbody>
<% for (const row of it.rows) { %>
<tr><td><a href="/requests/<%= row.requestId %>"><%= row.requestId %></a></td><td><code><%= row.subjectHash %></code></td><td><%= row.type %></td><td><span class="status <%= row.status %>"><%= row.status %></span></td><td><%= row.jurisdiction %></td><td><%= row.receivedAt %></td><td><%= row.dueAt %></td><td><%= row.daysLeft %></td></tr>
<% } %>
</tbody>
</table>
<%~ include('@pager', it.pager) %>
<% } %>`;

const REQUEST_NEW = `<% layout('@layout', it) %>
<%~ include('@form-error', it) %>
<form method="post" action="/requests" novalidate>
<%~ include('@csrf', it) %>
<%~ include('@field', { f: { id: 'type', name: 'type', label: 'Right exercised', value: it.values.type, options: it.options.type, error: it.errors.type } }) %>
<%~ include('@field', { f: { id: 'jurisdiction', name: 'jurisdiction', label: 'Jurisdiction', value: it.values.jurisdiction, options: it.options.jurisdiction, error: it.errors.jurisdiction } }) %>
<fieldset><legend>Identities of the subject (at least one)</legend>
<% for (let index = 0; index < it.identityRows; index++) { %>
<div class="identity">
<%~ include('@field', { f: { id: 'identityType' + index, name: 'identityType', label: 'Identity type ' + (index + 1), value: (it.values.identityType || [])[index], options: it.options.identityType, error: it.errors['identity' + index] ? ' ' : undefined } }) %>
<%~ include('@field', { f: { id: 'identityValue' + index, name: 'identityValue', label: 'Value ' + (index + 1), value: (it.values.identityValue || [])[index], error: it.errors['identity' + index] } }) %>
</div>
<% } %>
</fieldset>
<%~ include('@field', { f: { id: 'verification', name: 'verification', label: 'How the requester was verified', value: it.values.verification, options: it.options.verification, error: it.errors.verification } }) %>
<%~ include('@field', { f: { id: 'verifiedBy', name: 'verifiedBy', label: 'Verified by', value: it.values.verifiedBy, error: it.errors.verifiedBy } }) %>
<%~ include('@field', { f: { id: 'channel', name: 'channel', label: 'How the request arrived', value: it.values.channel, options: it.options.channel, error: it.errors.channel } }) %>
<%~ include('@field', { f: { id: 'requestId', name: 'requestId', label: 'Your own request id (optional)', value: it.values.requestId, error: it.errors.requestId, hint: '8 to 64 letters, digits, - or _' } }) %>
<button type="submit">Submit and start</button>
</form>`;

const REQUEST = `<% layout('@layout', it) %>
<% const s = it.summary; %>
<dl class="facts">
<dt>Status</dt><dd><span class="status <%= s.status %>"><%= s.status %></span><% if (s.reason) { %> — <%= s.reason %><% } %></dd>
<dt>Type</dt><dd><%= s.type %> (<%= s.jurisdiction %>)</dd>
<dt>Received</dt><dd><%= s.receivedAt %></dd>
<dt>Due</dt><dd><%= s.dueAt %> (<%= it.daysLeft %>)</dd>
<% if (s.completedAt) { %><dt>Completed</dt><dd><%= s.completedAt %></dd><% } %>
<dt>Attempt</dt><dd><%= s.attempt %></dd>
<dt>Subject (keyed hashes)</dt><dd><% for (const hash of it.subjectHashes) { %><code><%= hash %></code> <% } %></dd>
<% if (s.duplicateOf) { %><dt>Duplicate of</dt><dd><a href="/requests/<%= s.duplicateOf %>"><%= s.duplicateOf %></a></dd><% } %>
<% if (s.error) { %><dt>Error</dt><dd><%= s.error.code %>: <%= s.error.message %></dd><% } %>
</dl>
<% if (it.running) { %><p class="notice running" role="status">The workflow is running: <a href="/requests/<%= s.requestId %>">reload this page</a> to follow its progress.</p><% } %>
<% if (it.entered.length) { %><section><h2>Identities you entered</h2><p class="hint">Shown only on this page, right after you submitted them; never stored in the page's address or the lists.</p><ul><% for (const line of it.entered) { %><li><%= line %></li><% } %></ul></section><% } %>
<section><h2>Stores</h2>
<% if (s.stores.length === 0) { %><p>No store outcome yet.</p><% } else { %>
<table><thead><tr><th scope="col">Store</th><th scope="col">Located</th><th scope="col">Exported</th><th scope="col">Erased</th><th scope="col">Masked</th><th scope="col">Exempted</th><th scope="col">Remaining</th><th scope="col">Excluded in review</th></tr></thead><tbody>
<% for (const store of s.stores) { %><tr><th scope="row"><%= store.store %></th><td><%= store.located %></td><td><%= store.exported %></td><td><%= store.erased %></td><td><%= store.masked %></td><td><%= store.exempted %></td><td><%= store.remaining %></td><td><%= store.excludedByReview ?? 0 %></td></tr><% } %>
</tbody></table><% } %>
</section>
<% if (s.export) { %><section><h2>Export package</h2>
<% if (s.export.deletedAt) { %><p>Deleted <%= s.export.deletedAt %> by a later erasure of the same subject.</p><% } else { %>
<p><a class="button" href="/requests/<%= s.requestId %>/export" download>Download the export package</a> (<%= s.export.bytes %> bytes, SHA-256 <code><%= s.export.sha256 %></code>, link for the subject expires <%= s.export.expiresAt %>)</p><% } %>
</section><% } %>
<% if (it.certificate) { %><section><h2>Erasure certificate</h2>
<p>Certificate <code><%= it.certificate.certificate.certificateId %></code>: <strong><%= it.certificate.ok ? 'valid' : 'does not match' %></strong>; digest <code><%= it.certificate.digest.stored %></code>, backed by <%= it.certificate.backedBy.length %> audit event(s).</p>
<% for (const problem of it.certificate.problems) { %><p class="error"><%= problem %></p><% } %>
<p><a href="/requests/<%= s.requestId %>/certificate.json" download>Download the certificate (JSON)</a></p>
</section><% } %>
<% if (it.review) { %><section><h2>Waiting for review</h2>
<table><thead><tr><th scope="col">Store</th><th scope="col">Records waiting</th><th scope="col">Reached through</th></tr></thead><tbody>
<% for (const store of it.review.stores) { %><tr><th scope="row"><%= store.store %></th><td><%= store.records %></td><td><%= store.paths %></td></tr><% } %>
</tbody></table></section><% } %>
<% if (it.staff.canAct && it.actions.length) { %><section><h2>Actions</h2>
<%~ include('@form-error', it) %>
<% for (const action of it.actions) { %>
<form method="post" action="/requests/<%= s.requestId %>/<%= action.name %>" class="action" novalidate>
<%~ include('@csrf', it) %>
<fieldset><legend><%= action.label %></legend>
<p class="hint"><%= action.help %></p>
<% for (const field of action.fields) { %>
<% if (field.kind === 'stores') { %>
<% for (const store of field.stores) { %>
<fieldset class="choice"><legend><%= store %></legend>
<% for (const choice of ['include', 'exclude']) { %><input type="radio" id="<%= action.name %>-<%= store %>-<%= choice %>" name="store:<%= store %>" value="<%= choice %>"<% if ((it.values['store:' + store] || '') === choice) { %> checked<% } %>><label for="<%= action.name %>-<%= store %>-<%= choice %>"><%= choice %></label> <% } %>
</fieldset>
<% } %>
<% if (it.errors[action.name + ':stores']) { %><p class="error"><%= it.errors[action.name + ':stores'] %></p><% } %>
<% } else { %>
<%~ include('@field', { f: { id: action.name + '-' + field.name, name: field.name, label: field.label, value: it.values[field.name], error: it.errors[action.name + ':' + field.name], hint: field.hint } }) %>
<% } %>
<% } %>
<button type="submit"><%= action.label %></button>
</fieldset>
</form>
<% } %>
</section><% } %>
<section><h2>Timeline</h2>
<% if (it.chart.bars.length) { %><%~ include('@chart', { id: 'timeline', chart: it.chart }) %><% } else { %><p>No states recorded yet.</p><% } %>
<details><summary>Every event (<%= it.timeline.length %>)</summary>
<table><thead><tr><th scope="col">At</th><th scope="col">What</th><th scope="col">Store</th><th scope="col">Actor</th><th scope="col">Took</th><th scope="col">Outcome</th></tr></thead><tbody>
<% for (const entry of it.timeline) { %><tr><td><%= entry.at %></td><td><%= entry.what %></td><td><%= entry.storeId ?? '' %></td><td><%= entry.actor ?? '' %></td><td><%= entry.durationMs === null ? '' : entry.durationMs + ' ms' %></td><td><%= entry.outcome ?? '' %></td></tr><% } %>
</tbody></table></details>
</section>`;

const HOLDS = `<% layout('@layout', it) %>
<% if (it.staff.canAct) { %><section><h2>Place a hold</h2>
<%~ include('@form-error', it) %>
<form method="post" action="/holds" novalidate>
<%~ include('@csrf', it) %>
<%~ include('@field', { f: { id: 'scope', name: 'scope', label: 'Hold', value: it.values.scope, options: [{ value: 'subject', label: 'a subject (every record reachable from an identity)' }, { value: 'record', label: 'one record of one store' }], error: it.errors.scope } }) %>
<fieldset><legend>A subject</legend>
<%~ include('@field', { f: { id: 'identityType', name: 'identityType', label: 'Identity type', value: it.values.identityType, options: it.options.identityType, error: it.errors.identityType } }) %>
<%~ include('@field', { f: { id: 'identityValue', name: 'identityValue', label: 'Identity value', value: it.values.identityValue, error: it.errors.identityValue } }) %>
</fieldset>
<fieldset><legend>Or one record</legend>
<%~ include('@field', { f: { id: 'store', name: 'store', label: 'Store', value: it.values.store, options: it.options.store, error: it.errors.store } }) %>
<%~ include('@field', { f: { id: 'key', name: 'key', label: 'Key (DynamoDB key as JSON, or the S3 object key)', value: it.values.key, error: it.errors.key } }) %>
</fieldset>
<%~ include('@field', { f: { id: 'reason', name: 'reason', label: 'Reason (no names or identifiers)', value: it.values.reason, error: it.errors.reason, hint: 'e.g. Litigation hold, case 2026-0042' } }) %>
<button type="submit">Place hold</button>
</form></section><% } %>
<section><h2>Holds</h2>
<% if (it.holds.length === 0) { %><p>No legal holds.</p><% } else { %>
<table><thead><tr><th scope="col">Hold</th><th scope="col">Status</th><th scope="col">Scope</th><th scope="col">Placed</th><th scope="col">By</th><th scope="col">Reason</th><th scope="col">Released</th><th scope="col">Action</th></tr></thead><tbody>
<% for (const hold of it.holds) { %><tr><td><%= hold.holdId %></td><td><%= hold.status %></td><td><%= hold.scope %></td><td><%= hold.placedAt %></td><td><%= hold.placedBy %></td><td><%= hold.reason %></td><td><%= hold.releasedAt ? hold.releasedAt + ' by ' + hold.releasedBy : '' %></td><td>
<% if (hold.status === 'active' && it.staff.canAct) { %><form method="post" action="/holds/<%= hold.holdId %>/release"><%~ include('@csrf', it) %><button type="submit" aria-label="Release hold <%= hold.holdId %>">Release</button></form><% } %>
</td></tr><% } %>
</tbody></table><% } %>
</section>`;

const SWEEPS = `<% layout('@layout', it) %>
<% if (it.staff.canAct) { %><section><h2>Run a sweep</h2>
<%~ include('@form-error', it) %>
<form method="post" action="/sweeps" novalidate>
<%~ include('@csrf', it) %>
<%~ include('@field', { f: { id: 'store', name: 'store', label: 'Store', value: it.values.store, options: it.options.store, error: it.errors.store } }) %>
<%~ include('@field', { f: { id: 'now', name: 'now', label: 'Measure retention from (optional)', value: it.values.now, error: it.errors.now, hint: 'an ISO-8601 date and time such as 2026-11-01T03:00:00Z; empty: now' } }) %>
<%~ include('@field', { f: { id: 'mode', name: 'mode', label: 'Mode', value: it.values.mode, options: [{ value: 'dry-run', label: 'Dry run: count what would go, change nothing' }, { value: 'sweep', label: 'Sweep: purge or anonymise for real' }], error: it.errors.mode } }) %>
<button type="submit">Run</button>
</form></section><% } %>
<section><h2>Records purged per store over time</h2>
<% if (it.chart.bars.length) { %><%~ include('@chart', { id: 'purged', chart: it.chart }) %><% } else { %><p>No sweep has purged anything yet.</p><% } %>
</section>
<section><h2>Runs</h2>
<% if (it.runs.length === 0) { %><p>No sweep has run yet.</p><% } else { %>
<% for (const run of it.runs) { %>
<table>
<caption><%= run.dryRun ? 'Dry run' : 'Sweep' %> <%= run.sweepId %>, recorded <%= run.recordedAt %> by <%= run.actor %></caption>
<thead><tr><th scope="col">Store</th><th scope="col">Examined</th><th scope="col">Expired</th><th scope="col"><%= run.dryRun ? 'Would purge' : 'Purged' %></th><th scope="col"><%= run.dryRun ? 'Would anonymise' : 'Anonymised' %></th><th scope="col">Held</th></tr></thead><tbody>
<% for (const store of run.stores) { %><tr><th scope="row"><%= store.storeId %></th><td><%= store.examined %></td><td><%= store.expired %></td><td><%= run.dryRun ? store.wouldPurge : store.purged %></td><td><%= run.dryRun ? store.wouldAnonymise : store.anonymised %></td><td><%= store.held %></td></tr><% } %>
</tbody></table>
<% } %>
<% } %>
</section>`;

const AUDIT = `<% layout('@layout', it) %>
<section><h2>Audit log</h2>
<% const v = it.verification; %>
<p class="<%= v.ok ? 'ok' : 'error' %>"><strong><%= v.ok ? 'Intact' : 'NOT intact' %></strong>: <%= v.checked %> event(s) checked<% if (v.head) { %>, head event <%= v.head.seq %> (<code><%= v.head.hash.slice(0, 16) %>…</code>, <%= v.head.at %>)<% } %>.</p>
<% if (v.problem) { %><p class="error"><%= v.problem.kind %> at event <%= v.problem.seq %>: <%= v.problem.message %></p><% } %>
<p>Last anchor: <% if (v.anchors.latest) { %>event <%= v.anchors.latest.seq %>, taken <%= v.anchors.latest.anchoredAt %> (<%= v.anchors.checked %> anchor(s) compared)<% } else { %>none yet<% } %>.</p>
</section>
<section><h2>Period report</h2>
<form method="get" action="/audit" novalidate>
<%~ include('@field', { f: { id: 'from', name: 'from', label: 'From (first day)', value: it.values.from, error: it.errors.from } }) %>
<%~ include('@field', { f: { id: 'to', name: 'to', label: 'To (the day after)', value: it.values.to, error: it.errors.to } }) %>
<button type="submit">Show</button>
</form>
<% if (it.report) { %>
<% const t = it.report.totals; %>
<dl class="facts"><dt>Received</dt><dd><%= t.received %></dd><dt>Completed</dt><dd><%= t.completed %></dd><dt>Denied</dt><dd><%= t.denied %></dd><dt>Open</dt><dd><%= t.open %></dd><dt>Overdue</dt><dd><%= t.overdue %></dd><dt>Median days to respond</dt><dd><%= t.medianDaysToRespond ?? '—' %></dd><dt>Mean days to respond</dt><dd><%= t.meanDaysToRespond ?? '—' %></dd></dl>
<%~ include('@chart', { id: 'by-type', chart: it.chart }) %>
<p><a href="/audit/report.csv?from=<%= it.values.from %>&amp;to=<%= it.values.to %>" download>Download CSV</a> · <a href="/audit/report.html?from=<%= it.values.from %>&amp;to=<%= it.values.to %>" download>Download HTML</a></p>
<% } %>
</section>`;

/** The inventory table, shared by the console page and the standalone document. */
const INVENTORY_TABLE = `<% const o = it.inventory.organisation; %>
<p>Controller: <%= o.controller ?? o.name ?? 'not named in the data map' %><% if (o.contact) { %>; contact: <%= o.contact %><% } %>.</p>
<table class="inventory">
<thead><tr><th scope="col">Store</th><th scope="col">Kind and location</th><th scope="col">Categories of data</th><th scope="col">Purpose</th><th scope="col">Lawful basis</th><th scope="col">Recipients</th><th scope="col">Source</th><th scope="col">Retention</th><th scope="col">Erasure</th><th scope="col">Exemptions</th></tr></thead>
<tbody>
<% for (const row of it.inventory.rows) { %><tr><th scope="row"><%= row.storeId %><% if (row.description) { %><br><span class="hint"><%= row.description %></span><% } %></th><td><%= row.kind %>: <%= row.location %></td><td><%= row.categories.join(', ') %></td><td><%= row.purpose %></td><td><%= row.lawfulBasis %></td><td><%= row.recipients.join(', ') || 'none' %></td><td><%= row.source %></td><td><%= row.retention %></td><td><%= row.erase %></td><td><%= row.exemptions.join('; ') || 'none' %></td></tr><% } %>
</tbody></table>`;

const INVENTORY = `<% layout('@layout', it) %>
<p class="no-print"><a href="/inventory.csv" download>Download CSV</a> · <a href="/inventory.html" download>Download HTML</a></p>
<%~ include('@inventory-table', it) %>`;

const INVENTORY_DOCUMENT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Record of processing activities</title>
<style><%~ it.css %></style></head>
<body><main><h1>Record of processing activities (GDPR Art. 30)</h1>
<p>Generated <%= it.generatedAt %> from the data map.</p>
<%~ include('@inventory-table', it) %>
</main></body></html>`;

export const TEMPLATES: Record<string, string> = {
  '@layout': LAYOUT,
  '@field': FIELD,
  '@csrf': CSRF,
  '@form-error': FORM_ERROR,
  '@chart': CHART,
  '@pager': PAGER,
  '@message': MESSAGE,
  '@login': LOGIN,
  '@requests': REQUESTS,
  '@request-new': REQUEST_NEW,
  '@request': REQUEST,
  '@holds': HOLDS,
  '@sweeps': SWEEPS,
  '@audit': AUDIT,
  '@inventory-table': INVENTORY_TABLE,
  '@inventory': INVENTORY,
  '@inventory-document': INVENTORY_DOCUMENT,
};

/** The console's one stylesheet, served from /static/console.css (the CSP allows no inline style). */
export const CONSOLE_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5360; --line: #c9d1d9; --accent: #0b5cad; --bad: #a4161a; --good: #1a6b34; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--ink); margin: 0; background: #fff; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; margin: 0; }
nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: underline; }
.who { margin: 0 0 0 auto; color: var(--muted); }
main { padding: 1rem; max-width: 1200px; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .25rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.field { margin: .5rem 0; }
.field label { display: block; font-weight: 600; }
.field input, .field select { font: inherit; padding: .25rem; min-width: 16rem; }
.invalid input, .invalid select { border: 2px solid var(--bad); }
.error { color: var(--bad); font-weight: 600; }
.ok { color: var(--good); }
.hint { color: var(--muted); margin: .1rem 0; }
.notice { background: #eef5ff; border: 1px solid var(--accent); padding: .5rem; }
fieldset { border: 1px solid var(--line); margin: .5rem 0; }
.filters fieldset { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; }
.identity { display: flex; gap: 1rem; flex-wrap: wrap; }
button, .button { font: inherit; padding: .35rem .8rem; background: var(--accent); color: #fff; border: 0; border-radius: 3px; text-decoration: none; display: inline-block; cursor: pointer; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.chart svg { max-width: 100%; height: auto; }
.bar { fill: var(--accent); }
.bar.failed { fill: var(--bad); }
.bar-label, .tick { font-size: 12px; fill: var(--ink); }
.pager { display: flex; gap: 1rem; }
code { font-size: 13px; }
@media print { header, .no-print, form { display: none; } table { font-size: 11px; } }
`;
