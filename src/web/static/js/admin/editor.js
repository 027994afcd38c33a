// Create and edit experts and cases. Saving sends a JSON merge patch with If-Match; field
// errors (422) appear beside their fields; a 412 opens the conflict view.
import { t, fmtDate } from '../lib/i18n.js';
import { $, h, clearFieldErrors, showFieldErrors, focusField } from '../lib/dom.js';
import { ApiError, errorText } from '../lib/api.js';
import { adminApi, kindPath } from './client.js';
import { notify, fail } from './ui.js';
import { buildFields, readForm, fromRecord, fillForm, mergePatch, createBody } from './fields.js';
import { resolveConflict } from './conflict.js';
import { openAudit } from './audit.js';
import { openErase } from './erase.js';

const state = { kind: null, id: null, base: null, record: null, etag: null, built: null, saving: false };

const etagOf = (response) => response.etag || (response.data && response.data.version != null ? `"${response.data.version}"` : null);
const titleOf = (kind, record) => (record && (kind === 'experts' ? record.name : record.title)) || (record && record.id) || '';

function header() {
  const { kind, record } = state;
  const creating = !state.id;
  $('editor-h').textContent = creating ? t(kind === 'experts' ? 'admin.editor.new_expert' : 'admin.editor.new_case')
    : t('admin.editor.edit', { name: titleOf(kind, record) });
  $('editor-meta').textContent = creating || !record ? '' : t('admin.editor.version', { v: record.version, at: fmtDate(record.updated_at) });
  $('editor-save').textContent = creating ? t('admin.editor.create') : t('admin.editor.save');
  const links = [];
  if (!creating) {
    const label = titleOf(kind, record);
    if (record && record.status === 'published') {
      links.push(h('a', { class: 'button', href: `/${kind}/${encodeURIComponent(state.id)}` }, t('admin.editor.public')));
    }
    links.push(h('button', { type: 'button', onclick: (event) => openAudit(`${kind}/${state.id}`, label, event.currentTarget) }, t('admin.editor.history')));
    if (kind === 'experts') {
      links.push(h('button', { type: 'button', class: 'danger', onclick: (event) => openErase({
        id: state.id, name: record ? record.name : state.id, etag: () => state.etag, opener: event.currentTarget,
      }) }, t('admin.editor.erase')));
    }
  }
  $('editor-links').replaceChildren(...links);
}

/** Opens the editor on a record (`id`) or a new one (`id` null). */
export async function open(kind, id) {
  state.kind = kind;
  state.id = id;
  state.record = null;
  state.base = null;
  state.etag = null;
  $('conflict').hidden = true;
  $('editor-form').hidden = false;
  $('editor-error').textContent = '';
  clearFieldErrors($('editor-form'));
  if (state.built !== kind) {
    await buildFields(kind, $('editor-fields'));
    state.built = kind;
  }
  if (!id) {
    state.base = fromRecord(kind, null);
    fillForm(kind, state.base, true);
    header();
    return;
  }
  $('editor-h').textContent = t('admin.editor.loading');
  try {
    const response = await adminApi(kindPath(kind, id));
    accept(response);
  } catch (error) {
    fail(error);
    $('editor-form').hidden = true;
  }
  header();
}

/** Takes a server answer with the record as the new starting point. */
function accept(response) {
  state.record = response.data;
  state.id = response.data.id;
  state.etag = etagOf(response);
  state.base = fromRecord(state.kind, response.data);
  fillForm(state.kind, state.base, false);
}

function showErrors(error) {
  const form = $('editor-form');
  const { first, unplaced } = showFieldErrors(form, 'f-', error.fields);
  $('editor-error').textContent = t('common.fix_fields') + (unplaced.length ? ' ' + unplaced.join(' · ') : '');
  focusField(first || $('editor-error'));
}

async function save(event) {
  event.preventDefault();
  if (state.saving) return;
  const { kind } = state;
  const form = $('editor-form');
  clearFieldErrors(form);
  $('editor-error').textContent = '';
  const mine = readForm(kind);
  state.saving = true;
  $('editor-save').disabled = true;
  try {
    if (!state.id) {
      const response = await adminApi(kindPath(kind), { method: 'POST', body: createBody(kind, mine) });
      accept(response);
      history.replaceState(null, '', `#${kind}/${encodeURIComponent(state.id)}`);
      header();
      notify(t('admin.editor.created', { v: response.data.version }), true);
      return;
    }
    const patch = mergePatch(kind, state.base, mine);
    if (!Object.keys(patch).length) { notify(t('admin.editor.unchanged'), true); return; }
    const response = await adminApi(kindPath(kind, state.id), {
      method: 'PATCH', body: patch, contentType: 'application/merge-patch+json', ifMatch: state.etag,
    });
    accept(response);
    header();
    notify(t('admin.editor.saved', { v: response.data.version }), true);
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) {
      await conflict(mine);
    } else if (error instanceof ApiError && error.status === 422 && error.fields.length) {
      showErrors(error);
    } else {
      $('editor-error').textContent = errorText(error);
      $('editor-error').focus?.();
    }
  } finally {
    state.saving = false;
    $('editor-save').disabled = false;
  }
}

/** A colleague saved meanwhile: compare field by field, then save the chosen values. */
async function conflict(mine) {
  const form = $('editor-form');
  await resolveConflict({
    kind: state.kind, id: state.id, base: state.base, mine,
    hideForm: () => { form.hidden = true; },
    back: () => { $('conflict').hidden = true; form.hidden = false; $('editor-save').focus(); },
    saved: (response) => {
      accept(response);
      $('conflict').hidden = true;
      form.hidden = false;
      header();
      notify(t('admin.editor.saved', { v: response.data.version }), true);
    },
    invalid: (error, theirs, merged) => {
      // Keep the chosen values in the form, now based on the colleague's version.
      accept(theirs);
      fillForm(state.kind, merged, false);
      $('conflict').hidden = true;
      form.hidden = false;
      header();
      showErrors(error);
    },
  });
}

export function init() {
  $('editor-form').addEventListener('submit', save);
}

export const current = () => state;
