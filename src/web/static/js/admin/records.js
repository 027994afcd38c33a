// Records: search experts or cases of every status (drafts too) and open one to edit.
import { t, tn, fmtDate, countryName, joinList } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { ApiError, isAbort } from '../lib/api.js';
import { adminApi } from './client.js';
import { fail, statusBadge } from './ui.js';
import { openAudit } from './audit.js';

let controller = null;

function query(withStatus) {
  const params = new URLSearchParams();
  const q = $('records-q').value.trim();
  if (q) params.set('q', q);
  if (withStatus && $('records-status').value) params.set('status', $('records-status').value);
  params.set('limit', '50');
  return params.toString();
}

async function search(kind) {
  try {
    return (await adminApi(`/v1/admin/${kind}?` + query(true), { signal: controller.signal })).data;
  } catch (error) {
    // A server without the status filter: ask without it and filter this page here.
    if (!(error instanceof ApiError) || error.status !== 400 || !error.fields.some((f) => f.field === 'status')) throw error;
    const { data } = await adminApi(`/v1/admin/${kind}?` + query(false), { signal: controller.signal });
    const status = $('records-status').value;
    const hits = data.hits.filter((hit) => (hit.expert || hit.case || {}).status === status);
    return { ...data, hits, total: hits.length };
  }
}

/** Runs the search in the form (drafts and archived records included). */
export async function load() {
  const kind = $('records-kind').value;
  if (controller) controller.abort();
  controller = new AbortController();
  $('records-status-line').textContent = t('common.loading');
  try {
    const data = await search(kind);
    render(kind, data);
  } catch (error) {
    if (isAbort(error)) return;
    $('records-table').replaceChildren();
    $('records-status-line').textContent = '';
    fail(error);
  }
}

function render(kind, data) {
  const hits = Array.isArray(data.hits) ? data.hits : [];
  $('records-status-line').textContent = hits.length ? tn('admin.records.count', Number(data.total) || hits.length) : t('admin.records.none');
  if (!hits.length) { $('records-table').replaceChildren(); return; }
  const experts = kind === 'experts';
  const rows = hits.map((hit) => {
    const record = hit.expert || hit.case || {};
    const label = experts ? record.name : record.title;
    return h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: `#${kind}/${encodeURIComponent(record.id)}`, dir: 'auto' }, label || record.id),
        h('div', { class: 'small muted' }, h('code', { dir: 'ltr' }, record.id))),
      h('td', null, h('span', { dir: 'auto' }, joinList([record.city, record.country ? countryName(record.country) : null]))),
      h('td', null, statusBadge(record.status)),
      h('td', null, record.updated_at ? fmtDate(record.updated_at) : '—'),
      h('td', null, h('div', { class: 'row-actions' },
        h('a', { class: 'button', href: `#${kind}/${encodeURIComponent(record.id)}` }, t('admin.records.edit'),
          h('span', { class: 'sr-only' }, ': ' + (label || record.id))),
        h('button', { type: 'button', onclick: (event) => openAudit(`${kind}/${record.id}`, label || record.id, event.currentTarget) },
          t('admin.records.history'), h('span', { class: 'sr-only' }, ': ' + (label || record.id))))));
  });
  $('records-table').replaceChildren(h('table', { class: 'data' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, experts ? t('admin.records.name') : t('admin.records.title')),
      h('th', { scope: 'col' }, t('admin.records.place')),
      h('th', { scope: 'col' }, t('admin.records.status')),
      h('th', { scope: 'col' }, t('admin.records.updated')),
      h('th', { scope: 'col' }, t('admin.records.actions')))),
    h('tbody', null, rows)));
}

export function init() {
  $('records-form').addEventListener('submit', (event) => { event.preventDefault(); load(); });
  $('records-kind').addEventListener('change', () => load());
  $('records-status').addEventListener('change', () => load());
}
