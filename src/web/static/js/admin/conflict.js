// The conflict view (after a 412): the colleague's saved version beside the user's, field by
// field; the user chooses per field and saves again against the new version. The form keeps
// what the user typed the whole time, so nothing is lost.
import { t } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { ApiError, errorText } from '../lib/api.js';
import { adminApi, kindPath } from './client.js';
import { FIELDS, fromRecord, mergePatch, same, fieldLabel, topicLabels } from './fields.js';
import { show } from './ui.js';

function display(field, value) {
  if (field.type === 'topics' && Array.isArray(value)) {
    const labels = topicLabels();
    return show(value.map((id) => labels.get(id) || id));
  }
  if (field.type === 'status' && value) return t('admin.status.' + value);
  return show(value);
}

/**
 * Fetches the saved version and shows the comparison. `base` is what the user started from,
 * `mine` what the form holds now. Callbacks: hideForm(), back(), saved(response),
 * invalid(error, theirsResponse, mergedValues).
 */
export async function resolveConflict({ kind, id, base, mine, hideForm, back, saved, invalid }) {
  const box = $('conflict');
  let theirsResponse;
  try {
    theirsResponse = await adminApi(kindPath(kind, id));
  } catch (error) {
    $('editor-error').textContent = errorText(error);
    return;
  }
  const theirs = fromRecord(kind, theirsResponse.data);
  const version = theirsResponse.data.version;
  const etag = theirsResponse.etag || `"${version}"`;
  const rows = FIELDS[kind].filter((field) => field.type !== 'id' && !same(mine[field.name], theirs[field.name]));
  const choice = {};
  const heading = h('h3', { id: 'conflict-h', tabindex: '-1' }, t('admin.conflict.heading'));
  const error = h('p', { class: 'alert', role: 'alert' });
  const table = h('table', { class: 'data' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('admin.conflict.field')),
      h('th', { scope: 'col' }, t('admin.conflict.yours')),
      h('th', { scope: 'col' }, t('admin.conflict.theirs', { v: version })))),
    h('tbody', null, rows.map((field) => {
      const byMe = !same(mine[field.name], base[field.name]);
      const byThem = !same(theirs[field.name], base[field.name]);
      choice[field.name] = byMe ? 'mine' : 'theirs';
      const group = 'choice-' + field.name;
      const why = byMe && byThem ? 'changed_by_both' : byMe ? 'changed_by_you' : 'changed_by_them';
      const option = (value, text) => {
        const inputId = group + '-' + value;
        return h('div', { class: 'choice' },
          h('input', { type: 'radio', id: inputId, name: group, value, checked: choice[field.name] === value,
            onchange: () => { choice[field.name] = value; } }),
          h('label', { for: inputId }, text, h('span', { class: 'sr-only' }, ' — ' + fieldLabel(field.name))));
      };
      return h('tr', { dataset: { field: field.name } },
        h('th', { scope: 'row' }, fieldLabel(field.name), h('div', { class: 'why' }, t('admin.conflict.' + why))),
        h('td', null, h('p', { class: 'value', dir: 'auto' }, display(field, mine[field.name])), option('mine', t('admin.conflict.keep_mine'))),
        h('td', null, h('p', { class: 'value', dir: 'auto' }, display(field, theirs[field.name])), option('theirs', t('admin.conflict.take_theirs'))));
    })));
  const saveButton = h('button', { type: 'button', class: 'primary' }, t('admin.conflict.save'));
  const backButton = h('button', { type: 'button', onclick: back }, t('admin.conflict.back'));
  saveButton.addEventListener('click', async () => {
    const merged = { ...theirs };
    for (const field of rows) if (choice[field.name] === 'mine') merged[field.name] = mine[field.name];
    const patch = mergePatch(kind, theirs, merged);
    error.textContent = '';
    saveButton.disabled = true;
    try {
      const response = Object.keys(patch).length
        ? await adminApi(kindPath(kind, id), { method: 'PATCH', body: patch, contentType: 'application/merge-patch+json', ifMatch: etag })
        : theirsResponse;
      saved(response);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 412) {
        // Saved again meanwhile: compare once more, starting from the version just seen.
        await resolveConflict({ kind, id, base: theirs, mine: merged, hideForm, back, saved, invalid });
      } else if (failure instanceof ApiError && failure.status === 422 && failure.fields.length) {
        invalid(failure, theirsResponse, merged);
      } else {
        error.textContent = errorText(failure);
      }
    } finally {
      saveButton.disabled = false;
    }
  });
  box.replaceChildren(heading, h('p', null, t('admin.conflict.intro', { v: version })), error,
    h('div', { class: 'table-wrap' }, table), h('div', { class: 'actions' }, saveButton, backButton));
  box.hidden = false;
  hideForm();
  heading.focus();
}
