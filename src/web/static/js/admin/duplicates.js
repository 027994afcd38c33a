// Possible duplicates: compare two experts side by side, choose the one to keep, merge.
import { t, fmtPct, joinList } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { adminApi, kindPath } from './client.js';
import { fail, notify, show } from './ui.js';

const COMPARED = ['name', 'position', 'organisation', 'city', 'country', 'languages', 'topics', 'email', 'phone', 'status', 'expertise'];
let opener = null;

/** Loads the list of likely pairs. */
export async function load() {
  $('duplicates-compare').hidden = true;
  $('duplicates-status').textContent = t('common.loading');
  try {
    const { data } = await adminApi('/v1/admin/duplicates');
    const pairs = Array.isArray(data.pairs) ? data.pairs : [];
    $('duplicates-status').textContent = pairs.length ? '' : t('admin.duplicates.none');
    $('duplicates-list').replaceChildren(...pairs.map((pair) => h('li', { dataset: { a: pair.a, b: pair.b } },
      h('div', null,
        h('strong', null, t('admin.duplicates.pair', { a: pair.a, b: pair.b })), ' ',
        h('span', { class: 'badge' }, t('admin.duplicates.similarity', { p: fmtPct(pair.similarity) })),
        h('div', { class: 'small muted' }, joinList(pair.reasons || []))),
      h('button', { type: 'button', onclick: (event) => compare(pair, event.currentTarget) }, t('admin.duplicates.compare'),
        h('span', { class: 'sr-only' }, ': ' + t('admin.duplicates.pair', { a: pair.a, b: pair.b }))))));
  } catch (error) {
    $('duplicates-status').textContent = '';
    fail(error);
  }
}

async function compare(pair, from) {
  opener = from;
  const box = $('duplicates-compare');
  box.hidden = false;
  box.replaceChildren(h('p', null, t('common.loading')));
  let a;
  let b;
  try {
    [a, b] = (await Promise.all([adminApi(kindPath('experts', pair.a)), adminApi(kindPath('experts', pair.b))])).map((r) => r.data);
  } catch (error) {
    box.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorText(error)));
    return;
  }
  const keep = (record, checked) => h('label', { class: 'keep' },
    h('input', { type: 'radio', name: 'keep', value: record.id, checked }), t('admin.duplicates.keep'),
    h('span', { class: 'sr-only' }, ': ' + record.name));
  const heading = h('h3', { id: 'compare-h', tabindex: '-1' }, t('admin.duplicates.pair', { a: a.name, b: b.name }));
  const error = h('p', { class: 'alert', role: 'alert' });
  const form = h('form', { novalidate: true },
    h('fieldset', { class: 'field' }, h('legend', { class: 'sr-only' }, t('admin.duplicates.keep')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data compare-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('admin.duplicates.field')),
          h('th', { scope: 'col' }, h('code', { dir: 'ltr' }, a.id)), h('th', { scope: 'col' }, h('code', { dir: 'ltr' }, b.id)))),
        h('tbody', null,
          h('tr', null, h('td'), h('td', null, keep(a, true)), h('td', null, keep(b, false))),
          COMPARED.map((field) => h('tr', null, h('th', { scope: 'row' }, t('admin.fields.' + field)),
            h('td', { dir: 'auto' }, show(a[field])), h('td', { dir: 'auto' }, show(b[field])))))))),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('admin.duplicates.merge')),
      h('button', { type: 'button', onclick: () => { box.hidden = true; if (opener && document.contains(opener)) opener.focus(); } }, t('common.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kept = form.querySelector('input[name=keep]:checked').value;
    const merged = kept === a.id ? b : a;
    const keptRecord = kept === a.id ? a : b;
    try {
      await adminApi(kindPath('experts', merged.id) + '/merge', { method: 'POST', body: { into: kept } });
      await load();
      notify(t('admin.duplicates.merged', { merged: merged.name + ' (' + merged.id + ')', kept: keptRecord.name + ' (' + kept + ')' }), true);
    } catch (failure) {
      error.textContent = errorText(failure);
    }
  });
  box.replaceChildren(heading, form);
  heading.focus();
}

export function init() {}
