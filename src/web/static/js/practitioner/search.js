// "Search experts": GET /v1/experts with facets, pages, corrections and did-you-mean.
import { t, tParts, fmtInt, countryName, languageName, collate } from '../lib/i18n.js';
import { api, errorText, isAbort } from '../lib/api.js';
import { $, h } from '../lib/dom.js';
import { topicLabel, isArea, regionLevel, regionLabel, checkbox, vocabRank } from './vocab.js';
import { FACETS, emptySearch } from './state.js';
import { searchCard } from './cards.js';
import { closeSuggestions, initSuggestions } from './suggest.js';

const FACET_COLLAPSED = 8;
const cache = new Map();
const view = { state: emptySearch(), last: null, expanded: new Set(), controller: null, seq: 0 };
let onChange = () => {};

export const current = () => view.state;

/** Puts a state into the controls (on load and on Back/Forward). */
export function fillForm(state) {
  view.state = structuredClone(state);
  $('s-q').value = state.q;
  $('s-available').checked = state.available;
  const limit = $('s-limit');
  if (![...limit.options].some((option) => option.value === String(state.limit))) limit.append(h('option', null, String(state.limit)));
  limit.value = String(state.limit);
}

function queryString(state) {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  for (const facet of FACETS) for (const value of state.filters[facet]) params.append(facet, value);
  if (state.available) params.set('available', 'true');
  params.set('limit', String(state.limit));
  params.set('offset', String(state.offset));
  return params.toString();
}

function clearResults() {
  $('search-list').replaceChildren();
  $('pager').hidden = true;
  $('search-dym').hidden = true;
}

/** Runs the current state; `focus` moves focus to the results heading (paging). */
export async function run({ focus = false } = {}) {
  const state = view.state;
  const query = queryString(state);
  if (view.controller) view.controller.abort();
  const ctrl = view.controller = new AbortController();
  const seq = ++view.seq;
  $('search-error').textContent = '';
  $('search-status').textContent = t('match.searching');
  $('search-list').setAttribute('aria-busy', 'true');
  try {
    let data = cache.get(query);
    if (!data) {
      ({ data } = await api('/v1/experts?' + query, { signal: ctrl.signal }));
      cache.set(query, data);
      if (cache.size > 30) cache.delete(cache.keys().next().value);
    }
    if (seq !== view.seq) return;
    view.last = data;
    render();
    explainQuery(state.q, data, seq);
    if (focus) $('search-results-h').focus();
  } catch (error) {
    if (isAbort(error) || seq !== view.seq) return;
    view.last = null;
    clearResults(); // an error never leaves stale results on screen
    $('search-status').textContent = '';
    $('search-error').textContent = errorText(error);
  } finally {
    if (seq === view.seq) { view.controller = null; $('search-list').removeAttribute('aria-busy'); }
  }
}

/** "Showing results for drainage" (the server corrected the query) or "Did you mean …?". */
async function explainQuery(q, data, seq) {
  const box = $('search-dym');
  box.hidden = true;
  box.className = 'dym';
  const corrections = data.interpreted && Array.isArray(data.interpreted.corrections) ? data.interpreted.corrections : null;
  if (corrections && corrections.length) {
    let corrected = q;
    for (const fix of corrections) {
      const better = (fix.suggestions || [])[0];
      if (fix.word && better) corrected = corrected.replace(new RegExp('(^|[^\\p{L}])' + fix.word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?=$|[^\\p{L}])', 'giu'), '$1' + better);
    }
    box.className = 'corrected';
    box.replaceChildren(...tParts('search.corrected', { query: h('strong', { dir: 'auto' }, corrected) }));
    box.hidden = false;
    return;
  }
  if (!q || (data.interpreted && data.total)) return; // understood as typed, and found something
  try {
    const { data: suggestions } = await api('/v1/suggest?q=' + encodeURIComponent(q));
    if (seq !== view.seq) return;
    const options = (suggestions.did_you_mean || []).concat(data.total ? [] : suggestions.completions || []).slice(0, 3);
    if (!options.length) return;
    const buttons = h('span', null, ...options.flatMap((option, i) => [
      i ? t('common.list_separator') : '',
      h('button', { type: 'button', class: 'link', dir: 'auto', onclick: () => change({ q: option.text }) }, option.text),
    ]));
    box.replaceChildren(...tParts('search.did_you_mean_q', { options: buttons }));
    box.hidden = false;
  } catch (_) { /* suggestions are optional */ }
}

function facetLabel(facet, value) {
  if (facet === 'topic') return topicLabel(value);
  if (facet === 'region') return regionLabel(value);
  if (facet === 'country') return countryName(value);
  if (facet === 'language') return languageName(value) + ' (' + value + ')';
  return value;
}
function facetOrder(facet, entries) {
  if (facet === 'topic' || facet === 'region') {
    const rank = vocabRank(facet);
    return entries.sort((a, b) => rank(a[0]) - rank(b[0]) || collate(a[0], b[0]));
  }
  return entries.sort((a, b) => b[1] - a[1] || collate(facetLabel(facet, a[0]), facetLabel(facet, b[0])));
}

function renderFacets(facets) {
  const box = $('facet-groups');
  const active = document.activeElement;
  const refocus = active && box.contains(active) ? { facet: active.dataset.facet, value: active.dataset.value, toggle: active.dataset.toggle } : null;
  const chosen = view.state.filters;
  box.replaceChildren(...FACETS.map((facet) => {
    const counts = { ...(facets[facet] || {}) };
    for (const value of chosen[facet]) if (!(value in counts)) counts[value] = 0; // chosen values stay visible
    let entries = facetOrder(facet, Object.entries(counts));
    const collapsible = (facet === 'country' || facet === 'language') && entries.length > FACET_COLLAPSED;
    const expanded = view.expanded.has(facet);
    if (collapsible && !expanded) {
      entries = entries.slice(0, FACET_COLLAPSED).concat(entries.slice(FACET_COLLAPSED).filter(([value]) => chosen[facet].includes(value)));
    }
    const listId = 'facet-' + facet + '-list';
    const items = entries.map(([value, count]) => checkbox(value, facetLabel(facet, value), {
      count, checked: chosen[facet].includes(value), data: { facet, value },
      cls: facet === 'topic' ? (isArea(value) ? 'area' : 'lvl1') : facet === 'region' ? 'lvl' + regionLevel(value) : '',
    }));
    return h('fieldset', { class: 'facet' }, h('legend', null, t('search.facet.' + facet)),
      h('div', { id: listId }, items.length ? items : h('p', { class: 'hint small' }, t('search.no_values'))),
      collapsible ? h('button', {
        type: 'button', class: 'link small', 'aria-expanded': String(expanded), 'aria-controls': listId, dataset: { toggle: facet },
        onclick: () => { if (expanded) view.expanded.delete(facet); else view.expanded.add(facet); renderFacets(facets); },
      }, expanded ? t('search.show_fewer') : t('search.show_all', { n: fmtInt(Object.keys(counts).length) })) : null);
  }));
  $('clear-filters').hidden = !FACETS.some((facet) => chosen[facet].length);
  if (refocus) {
    const selector = refocus.toggle
      ? '[data-toggle="' + CSS.escape(refocus.toggle) + '"]'
      : 'input[data-facet="' + CSS.escape(refocus.facet || '') + '"][data-value="' + CSS.escape(refocus.value || '') + '"]';
    const again = box.querySelector(selector);
    if (again) again.focus();
  }
}

function render() {
  const data = view.last;
  if (!data) return;
  const { offset, limit } = view.state;
  const hits = Array.isArray(data.hits) ? data.hits : [];
  const total = Number(data.total) || 0;
  $('search-status').textContent = total
    ? t('search.showing', { from: fmtInt(offset + 1), to: fmtInt(offset + hits.length), total: fmtInt(total) })
    : t('search.none');
  $('search-list').replaceChildren(...hits.map((hit, i) => h('li', null, searchCard(hit, i))));
  renderFacets(data.facets || {});
  const pages = Math.max(1, Math.ceil(total / limit));
  $('pager').hidden = total <= limit && offset === 0;
  $('prev').disabled = offset <= 0;
  $('next').disabled = offset + limit >= total || offset + limit > 10000;
  $('page-info').textContent = t('search.page_of', { p: fmtInt(Math.floor(offset / limit) + 1), n: fmtInt(pages) });
}

/** A user change: merge into the state, record it in the URL, run. */
function change(patch, options = {}) {
  closeSuggestions();
  const next = { ...view.state, offset: 0, ...patch };
  next.filters = structuredClone(patch.filters || view.state.filters);
  view.state = next;
  if ('q' in patch) $('s-q').value = next.q;
  onChange(next);
  return run(options);
}

/** Wires the controls; `changed(state)` records a new state in the URL. */
export function initSearch(changed) {
  onChange = changed;
  initSuggestions((text) => change({ q: text }));
  $('facet-groups').addEventListener('change', (event) => {
    const input = event.target;
    if (!input.dataset || !input.dataset.facet) return;
    const filters = structuredClone(view.state.filters);
    const list = filters[input.dataset.facet];
    if (input.checked) list.push(input.dataset.value);
    else list.splice(list.indexOf(input.dataset.value), 1);
    change({ filters });
  });
  $('clear-filters').addEventListener('click', () => {
    change({ filters: emptySearch().filters });
    $('s-q').focus();
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    change({ q: $('s-q').value.trim() });
  });
  $('s-available').addEventListener('change', () => change({ available: $('s-available').checked }));
  $('s-limit').addEventListener('change', () => change({ limit: parseInt($('s-limit').value, 10) || 20 }));
  $('prev').addEventListener('click', () => change({ offset: Math.max(0, view.state.offset - view.state.limit) }, { focus: true }));
  $('next').addEventListener('click', () => change({ offset: view.state.offset + view.state.limit }, { focus: true }));
  if (window.matchMedia('(max-width: 880px)').matches) $('facet-details').open = false;
}
