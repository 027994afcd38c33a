// The writable fields of experts and cases: how each is shown in the form, read back,
// compared and turned into a JSON merge patch.
import { t, lang } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { api } from '../lib/api.js';

export const FIELDS = {
  experts: [
    { name: 'id', type: 'id' },
    { name: 'name', type: 'text', required: true, max: 200 },
    { name: 'position', type: 'text', max: 300 },
    { name: 'organisation', type: 'text', max: 300 },
    { name: 'city', type: 'text', required: true, max: 200 },
    { name: 'country', type: 'code', required: true, hint: 'country_hint', max: 2 },
    { name: 'languages', type: 'list', required: true, hint: 'languages_hint' },
    { name: 'status', type: 'status' },
    { name: 'email', type: 'email', max: 254 },
    { name: 'phone', type: 'tel', max: 40 },
    { name: 'available', type: 'bool' },
    { name: 'topics', type: 'topics' },
    { name: 'expertise', type: 'textarea', max: 10000 },
    { name: 'bio', type: 'textarea', max: 10000 },
  ],
  cases: [
    { name: 'id', type: 'id' },
    { name: 'title', type: 'text', required: true, max: 300, wide: true },
    { name: 'city', type: 'text', required: true, max: 200 },
    { name: 'country', type: 'code', required: true, hint: 'country_hint', max: 2 },
    { name: 'year', type: 'number' },
    { name: 'language', type: 'code', hint: 'language_hint', max: 2 },
    { name: 'status', type: 'status' },
    { name: 'url', type: 'url', max: 2000 },
    { name: 'experts', type: 'list', hint: 'experts_hint' },
    { name: 'topics', type: 'topics' },
    { name: 'summary', type: 'textarea', required: true, max: 20000 },
  ],
};

let topicAreas = null;
async function areas() {
  if (!topicAreas) {
    try { topicAreas = (await api('/v1/topics?lang=' + encodeURIComponent(lang()))).data.areas || []; } catch (_) { topicAreas = []; }
  }
  return topicAreas;
}
export const topicLabels = () => new Map((topicAreas || []).flatMap((area) =>
  [[area.id, area.label], ...(area.topics || []).map((topic) => [topic.id, topic.label])]));

const label = (field) => t('admin.fields.' + field.name);
const wide = (field) => field.wide || field.type === 'textarea' || field.type === 'topics';

function control(field) {
  const id = 'f-' + field.name;
  const described = [field.hint ? id + '-hint' : null, id + '-err'].filter(Boolean).join(' ');
  const common = { id, name: field.name, 'aria-describedby': described, maxlength: field.max || null };
  switch (field.type) {
    case 'textarea': return h('textarea', { ...common, rows: 6, dir: 'auto' });
    case 'email': return h('input', { ...common, type: 'email', dir: 'ltr', autocomplete: 'off' });
    case 'tel': return h('input', { ...common, type: 'tel', dir: 'ltr', autocomplete: 'off' });
    case 'url': return h('input', { ...common, type: 'url', dir: 'ltr' });
    case 'number': return h('input', { ...common, type: 'number', min: 1950, max: 2100, step: 1, inputmode: 'numeric' });
    case 'code': case 'id': case 'list': return h('input', { ...common, type: 'text', dir: 'ltr', spellcheck: 'false', autocomplete: 'off' });
    case 'status': return h('select', common, ['draft', 'published', 'archived'].map((value) => h('option', { value }, t('admin.status.' + value))));
    default: return h('input', { ...common, type: 'text', dir: 'auto' });
  }
}

/** Builds the form's fields for `kind`. */
export async function buildFields(kind, container) {
  const all = await areas();
  container.replaceChildren(h('div', { class: 'editor-grid' }, FIELDS[kind].map((field) => {
    const id = 'f-' + field.name;
    const star = field.required ? [' ', h('span', { class: 'req', 'aria-hidden': 'true' }, '*')] : null;
    const error = h('p', { class: 'field-error', id: id + '-err' });
    const hint = field.hint ? h('p', { class: 'hint', id: id + '-hint' }, t('admin.fields.' + field.hint))
      : field.type === 'id' ? h('p', { class: 'hint', id: id + '-hint' }, t('admin.fields.id_hint')) : null;
    if (field.type === 'bool') {
      return h('div', { class: 'field' }, h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, 'aria-describedby': id + '-err' }), h('label', { for: id }, label(field))), error);
    }
    if (field.type === 'topics') {
      return h('fieldset', { class: 'field wide', id, 'aria-describedby': id + '-err' }, h('legend', null, label(field)),
        h('div', { class: 'checks scroll topic-checks' }, all.flatMap((area) => [area, ...(area.topics || [])].map((topic) => {
          const box = 'f-topic-' + topic.id;
          return h('div', { class: 'check' + (topic === area ? ' area' : ' lvl1') },
            h('input', { type: 'checkbox', id: box, value: topic.id }), h('label', { for: box }, topic.label));
        }))), error);
    }
    const input = control(field);
    if (field.type === 'id') input.setAttribute('aria-describedby', id + '-hint ' + id + '-err');
    return h('div', { class: 'field' + (wide(field) ? ' wide' : '') },
      h('label', { for: id }, label(field), star), hint, input, error);
  })));
}

const splitList = (text) => String(text || '').split(/[\s,;،]+/).map((part) => part.trim()).filter(Boolean);

/** Normalizes a value of `field` for comparing and sending (empty → null, lists sorted where order is meaningless). */
export function normalize(field, value) {
  switch (field.type) {
    case 'bool': return value == null ? true : Boolean(value);
    case 'list': return Array.isArray(value) ? value.map(String).filter(Boolean) : splitList(value);
    case 'topics': return Array.isArray(value) ? [...value].map(String).sort() : [];
    case 'number': { const n = parseInt(value, 10); return Number.isFinite(n) ? n : null; }
    case 'code': { const text = String(value ?? '').trim(); return text ? (field.name === 'country' ? text.toUpperCase() : text.toLowerCase()) : null; }
    default: { const text = String(value ?? '').trim(); return text || null; }
  }
}
export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The form's values, normalized. */
export function readForm(kind) {
  const values = {};
  for (const field of FIELDS[kind]) {
    const el = $('f-' + field.name);
    if (!el) continue;
    if (field.type === 'bool') values[field.name] = el.checked;
    else if (field.type === 'topics') values[field.name] = normalize(field, [...el.querySelectorAll('input:checked')].map((box) => box.value));
    else values[field.name] = normalize(field, el.value);
  }
  return values;
}

/** The record's writable values, normalized. */
export function fromRecord(kind, record) {
  const values = {};
  for (const field of FIELDS[kind]) values[field.name] = normalize(field, record ? record[field.name] : null);
  if (!record) values.status = 'draft';
  return values;
}

/** Puts values into the form. */
export function fillForm(kind, values, creating) {
  for (const field of FIELDS[kind]) {
    const el = $('f-' + field.name);
    if (!el) continue;
    const value = values[field.name];
    if (field.type === 'bool') el.checked = value !== false;
    else if (field.type === 'topics') for (const box of el.querySelectorAll('input')) box.checked = (value || []).includes(box.value);
    else if (field.type === 'list') el.value = (value || []).join(', ');
    else el.value = value == null ? '' : String(value);
    if (field.type === 'id') el.readOnly = !creating;
  }
}

/** A JSON merge patch that turns `from` into `to` (null removes a value). */
export function mergePatch(kind, from, to) {
  const patch = {};
  for (const field of FIELDS[kind]) {
    if (field.type === 'id') continue;
    if (!same(from[field.name], to[field.name])) patch[field.name] = to[field.name];
  }
  return patch;
}

/** A create body: the values without empty ones. */
export function createBody(kind, values) {
  const body = {};
  for (const field of FIELDS[kind]) {
    const value = values[field.name];
    if (value == null || (Array.isArray(value) && !value.length && field.type !== 'list')) continue;
    body[field.name] = value;
  }
  return body;
}

export const fieldLabel = (name) => t('admin.fields.' + name);
