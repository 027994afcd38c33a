// Contact requests: every request with its status (new → forwarded → closed) and a note;
// changes go through PATCH /v1/admin/contact-requests/{id}.
import { t, tn, fmtDate } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { adminApi } from './client.js';
import { fail } from './ui.js';
import { openAudit } from './audit.js';

const STATUSES = ['new', 'forwarded', 'closed'];
let requests = [];

const statusOf = (request) => (STATUSES.includes(request.status) ? request.status : 'new');
const statusName = (status) => t('admin.inbox.statuses.' + status);

function historyList(request) {
  const entries = Array.isArray(request.history) ? request.history : [];
  if (!entries.length) return null;
  return h('details', null, h('summary', null, t('admin.inbox.history')),
    h('ul', { class: 'changes' }, entries.map((entry) => h('li', null,
      fmtDate(entry.at), ' · ', h('span', { dir: 'auto' }, entry.actor || '—'), ' · ', statusName(entry.status || 'new'),
      entry.note ? [' · ', h('span', { dir: 'auto' }, entry.note)] : null))));
}

function card(request) {
  const id = 'cr-' + request.id.replace(/[^a-zA-Z0-9_-]/g, '_');
  const status = statusOf(request);
  const select = h('select', { id: id + '-status' }, STATUSES.map((value) => h('option', { value, selected: value === status }, statusName(value))));
  const note = h('textarea', { id: id + '-note', dir: 'auto', rows: 1, 'aria-describedby': id + '-note-hint' }, request.note || '');
  const feedback = h('p', { class: 'small', role: 'status' });
  const save = h('button', { type: 'submit' }, t('admin.inbox.save'), h('span', { class: 'sr-only' }, ': ' + request.name));
  const form = h('form', { novalidate: true },
    h('div', { class: 'field' }, h('label', { for: select.id }, t('admin.inbox.status')), select),
    h('div', { class: 'field' }, h('label', { for: note.id }, t('admin.inbox.note')), note,
      h('p', { class: 'hint small', id: id + '-note-hint' }, t('admin.inbox.note_hint'))),
    h('div', { class: 'field' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    feedback.textContent = '';
    try {
      const { data } = await adminApi('/v1/admin/contact-requests/' + encodeURIComponent(request.id), {
        method: 'PATCH', body: { status: select.value, note: note.value.trim() || null }, // null clears the note
      });
      const index = requests.findIndex((entry) => entry.id === request.id);
      requests[index] = { ...request, ...(data || {}), status: (data && data.status) || select.value };
      const fresh = card(requests[index]);
      form.closest('li').replaceWith(fresh);
      const message = fresh.querySelector('[role=status]');
      message.textContent = t('admin.inbox.saved');
      fresh.querySelector('select').focus();
    } catch (error) {
      feedback.textContent = errorText(error);
      feedback.className = 'small field-error';
    } finally {
      save.disabled = false;
    }
  });
  return h('li', { dataset: { id: request.id, status } }, h('article', { class: 'card request', 'aria-labelledby': id + '-h' },
    h('div', { class: 'request-head' },
      h('h3', { id: id + '-h' }, h('span', { dir: 'auto' }, request.name),
        request.organisation ? [' · ', h('span', { dir: 'auto', class: 'muted' }, request.organisation)] : null),
      h('span', { class: 'badge ' + (status === 'new' ? 'draft' : status === 'closed' ? 'archived' : 'published') }, statusName(status))),
    h('p', { class: 'meta' }, t('common.label', { label: t('admin.inbox.received') }), ' ', fmtDate(request.received_at), ' · ',
      h('a', { href: 'mailto:' + request.email, dir: 'ltr' }, request.email)),
    h('p', { class: 'meta' }, t('common.label', { label: t('admin.inbox.about') }), ' ',
      h('a', { href: '#experts/' + encodeURIComponent(request.expert_id) }, h('code', { dir: 'ltr' }, request.expert_id))),
    h('p', { class: 'message', dir: 'auto' }, request.message),
    form, feedback, historyList(request),
    h('p', null, h('button', { type: 'button', class: 'link', onclick: (event) => openAudit('contact-requests/' + request.id, request.name, event.currentTarget) },
      t('admin.records.history'), h('span', { class: 'sr-only' }, ': ' + request.name)))));
}

function render() {
  const filter = $('inbox-filter').value;
  const shown = requests.filter((request) => !filter || statusOf(request) === filter);
  $('inbox-status').textContent = requests.length ? tn('admin.inbox.count', shown.length) : t('admin.inbox.none');
  $('inbox-list').replaceChildren(...shown.slice().reverse().map(card));
}

/** Loads every request (newest first on screen). */
export async function load() {
  $('inbox-status').textContent = t('common.loading');
  try {
    const { data } = await adminApi('/v1/admin/contact-requests');
    requests = Array.isArray(data.requests) ? data.requests : [];
    render();
  } catch (error) {
    $('inbox-status').textContent = '';
    $('inbox-list').replaceChildren();
    fail(error);
  }
}

export function init() {
  $('inbox-filter').addEventListener('change', render);
}
