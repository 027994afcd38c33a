// Topics (in the page's language), regions and countries, and the checkboxes built from them.
import { api } from '../lib/api.js';
import { lang, regionName, collate, fmtInt } from '../lib/i18n.js';
import { h } from '../lib/dom.js';

export const vocab = { areas: [], topicMap: new Map(), regions: [], regionMap: new Map(), countries: [] };

export async function loadVocab() {
  const [topics, regions] = await Promise.all([
    api('/v1/topics?lang=' + encodeURIComponent(lang())),
    api('/v1/regions'),
  ]);
  vocab.areas = Array.isArray(topics.data.areas) ? topics.data.areas : [];
  vocab.topicMap = new Map();
  for (const area of vocab.areas) {
    vocab.topicMap.set(area.id, { label: area.label, area: true });
    for (const topic of area.topics || []) vocab.topicMap.set(topic.id, { label: topic.label, area: false, parent: area.id });
  }
  vocab.regions = Array.isArray(regions.data.regions) ? regions.data.regions : [];
  vocab.regionMap = new Map(vocab.regions.map((region) => [region.slug, region]));
  const countries = new Set();
  for (const region of vocab.regions) for (const code of region.countries || []) countries.add(String(code).toUpperCase());
  vocab.countries = [...countries];
}

export const topicLabel = (id) => (vocab.topicMap.get(id) || {}).label || id;
export const isArea = (id) => Boolean((vocab.topicMap.get(id) || {}).area);
export function regionLevel(slug) {
  const node = vocab.regionMap.get(slug);
  return node ? ({ region: 0, subregion: 1, intermediate_region: 2 }[node.level] ?? 0) : 0;
}
export const regionLabel = (slug) => regionName(slug) || (vocab.regionMap.get(slug) || {}).name || slug;

/** Order of topics and regions as the vocabulary lists them. */
export function vocabRank(kind) {
  const order = [];
  if (kind === 'topic') for (const area of vocab.areas) { order.push(area.id); for (const topic of area.topics || []) order.push(topic.id); }
  else for (const region of vocab.regions) order.push(region.slug);
  return (value) => { const i = order.indexOf(value); return i < 0 ? 1e6 : i; };
}

let checkboxCount = 0;
/** One labelled checkbox (ids are generated, values kept in data-value). */
export function checkbox(value, label, options = {}) {
  const id = 'cb' + (++checkboxCount);
  const input = h('input', { type: 'checkbox', id, value, checked: Boolean(options.checked), dataset: options.data || null });
  const count = options.count != null ? [' ', h('span', { class: 'count' }, '(' + fmtInt(options.count) + ')')] : null;
  return h('div', { class: 'check' + (options.cls ? ' ' + options.cls : '') }, input, h('label', { for: id }, label, count));
}
export const checkedValues = (container) =>
  [...container.querySelectorAll('input[type=checkbox]:checked')].map((input) => input.value);

export function sortedCountries(name) {
  return vocab.countries.map((code) => ({ code, name: name(code) })).sort((a, b) => collate(a.name, b.name));
}
