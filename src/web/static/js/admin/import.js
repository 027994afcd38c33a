// Import: upload a CSV, JSON Lines or JSON file; the per-row report lists rejected lines.
import { t, fmtInt } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { adminApi } from './client.js';

const TYPES = { csv: 'text/csv', jsonl: 'application/x-ndjson', ndjson: 'application/x-ndjson', json: 'application/json' };

function report(data) {
  const rejected = Array.isArray(data.rejected) ? data.rejected : [];
  const summary = h('p', { class: rejected.length ? 'warning' : 'notice' }, t('admin.import.result', {
    created: fmtInt(data.created || 0), updated: fmtInt(data.updated || 0),
    unchanged: fmtInt(data.unchanged || 0), rejected: fmtInt(rejected.length),
  }));
  if (!rejected.length) return [summary, h('p', null, t('admin.import.all_ok'))];
  return [summary, h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'import-rejected' },
    h('caption', null, t('admin.import.rejected')),
    h('thead', null, h('tr', null, ['line', 'id', 'errors'].map((key) => h('th', { scope: 'col' }, t('admin.import.' + key))))),
    h('tbody', null, rejected.map((row) => h('tr', { dataset: { line: String(row.line) } },
      h('td', null, fmtInt(row.line)),
      h('td', null, row.id ? h('code', { dir: 'ltr' }, row.id) : '—'),
      h('td', null, h('ul', null, (row.errors || []).map((error) =>
        h('li', null, error.field ? h('strong', null, error.field + ': ') : null, h('span', { dir: 'auto' }, error.message))))))))))];
}

async function submit(event) {
  event.preventDefault();
  const input = $('import-file');
  const out = $('import-report');
  $('import-file-err').textContent = '';
  input.removeAttribute('aria-invalid');
  const file = input.files && input.files[0];
  const extension = file ? file.name.split('.').pop().toLowerCase() : '';
  if (!file || !TYPES[extension]) {
    $('import-file-err').textContent = t(file ? 'admin.import.bad_type' : 'admin.import.no_file');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  $('import-submit').disabled = true;
  out.replaceChildren(h('p', null, t('admin.import.running')));
  try {
    const body = await file.text();
    const kind = $('import-kind').value;
    const { data } = await adminApi('/v1/admin/import?kind=' + encodeURIComponent(kind), {
      method: 'POST', body, contentType: TYPES[extension],
    });
    out.replaceChildren(...report(data));
  } catch (error) {
    out.replaceChildren(h('p', { class: 'alert' }, errorText(error)));
  } finally {
    $('import-submit').disabled = false;
  }
}

export function init() {
  $('import-form').addEventListener('submit', submit);
}
