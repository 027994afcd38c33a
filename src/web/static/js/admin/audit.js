// A record's audit trail in a dialog: GET /v1/admin/audit?entity=experts/{id}.
import { t, fmtDate } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { adminApi } from './client.js';
import { show, wireDialog } from './ui.js';

let opener = null;

function changes(list) {
  if (!Array.isArray(list) || !list.length) return t('admin.audit.empty');
  return h('ul', { class: 'changes' }, list.map((change) => h('li', null,
    h('strong', null, change.field), ': ',
    h('span', { dir: 'auto' }, show(change.before)), ' → ', h('span', { dir: 'auto' }, show(change.after)))));
}

/** Opens the trail of `entity` ("experts/{id}", "cases/{id}", "contact-requests/{id}"). */
export async function openAudit(entity, label, from) {
  opener = from || null;
  const dialog = $('audit-dialog');
  $('audit-h').textContent = t('admin.audit.heading', { entity: label || entity });
  const body = $('audit-body');
  body.replaceChildren(h('p', null, t('common.loading')));
  dialog.showModal();
  try {
    const { data } = await adminApi('/v1/admin/audit?entity=' + encodeURIComponent(entity));
    const entries = Array.isArray(data.entries) ? data.entries : [];
    if (!entries.length) { body.replaceChildren(h('p', null, t('admin.audit.none'))); return; }
    body.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', null, h('tr', null, ['at', 'actor', 'action', 'version', 'changes'].map((key) =>
        h('th', { scope: 'col' }, t('admin.audit.' + key))))),
      h('tbody', null, entries.slice().reverse().map((entry) => h('tr', null,
        h('td', null, fmtDate(entry.at)), h('td', null, h('span', { dir: 'auto' }, entry.actor || '—')),
        h('td', null, entry.action || '—'), h('td', null, entry.version ?? '—'), h('td', null, changes(entry.changes))))))));
  } catch (error) {
    body.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
  }
}

export function initAudit() {
  const dialog = $('audit-dialog');
  wireDialog(dialog);
  dialog.addEventListener('close', () => { if (opener && document.contains(opener)) opener.focus(); });
}
