// "Find a peer": the challenge form, POST /v1/match in the page's language, and the results.
import { t, tn, lang, fmtPct, countryName, languageName } from '../lib/i18n.js';
import { api, ApiError, errorText, isAbort } from '../lib/api.js';
import { $, h, clearFieldErrors, showFieldErrors, focusField } from '../lib/dom.js';
import { vocab, topicLabel, regionLevel, regionLabel, checkbox, checkedValues, sortedCountries } from './vocab.js';
import { emptyMatch, hasMatchQuery } from './state.js';
import { matchCard } from './cards.js';

const LANGUAGE_CHOICES = ['en', 'fr', 'es', 'pt', 'de', 'ar', 'ru', 'sw'];
const cache = new Map();
let controller = null;
let onSubmit = () => {};

/** (Re)builds topic, region, language and country choices, keeping what is chosen. */
export function buildChoices(chosen) {
  const keep = chosen || readForm();
  const topics = new Set(keep.topics);
  if (vocab.areas.length) {
    $('m-topics-box').replaceChildren(...vocab.areas.map((area) => h('div', { role: 'group', 'aria-label': area.label },
      checkbox(area.id, t('match.whole_area', { label: area.label }), { checked: topics.has(area.id), cls: 'area' }),
      (area.topics || []).map((topic) => checkbox(topic.id, topic.label, { checked: topics.has(topic.id), cls: 'lvl1' })))));
  }
  const regions = new Set(keep.regions);
  if (vocab.regions.length) {
    $('m-regions-box').replaceChildren(...vocab.regions.map((region) =>
      checkbox(region.slug, regionLabel(region.slug), { checked: regions.has(region.slug), cls: 'lvl' + regionLevel(region.slug) })));
  }
  const languages = new Set(keep.languages);
  $('m-languages-box').replaceChildren(...LANGUAGE_CHOICES.map((code) =>
    checkbox(code, languageName(code) + ' (' + code + ')', { checked: languages.has(code) })));
  $('m-languages-other').value = keep.languages.filter((code) => !LANGUAGE_CHOICES.includes(code)).join(', ');
  const country = $('m-country');
  country.replaceChildren(h('option', { value: '' }, t('match.country_none')),
    ...sortedCountries(countryName).map((entry) => h('option', { value: entry.code }, entry.name)));
  country.value = keep.country || '';
}

/** What the form says now. */
export function readForm() {
  const languages = checkedValues($('m-languages-box'));
  for (const code of $('m-languages-other').value.split(/[\s,;،]+/)) {
    const value = code.trim().toLowerCase();
    if (value && !languages.includes(value)) languages.push(value);
  }
  const limit = parseInt($('m-limit').value, 10);
  return {
    challenge: $('m-challenge').value.trim(),
    topics: checkedValues($('m-topics-box')),
    languages,
    regions: checkedValues($('m-regions-box')),
    city: $('m-city').value.trim(),
    country: $('m-country').value,
    limit: Number.isFinite(limit) ? limit : 10,
  };
}

/** Puts a state into the form (on load and on Back/Forward). */
export function fillForm(state) {
  $('m-challenge').value = state.challenge;
  $('m-city').value = state.city;
  $('m-limit').value = String(state.limit);
  buildChoices(state);
  if (state.topics.length || state.languages.length || state.regions.length || state.city || state.country || state.limit !== 10) {
    $('m-options').open = true;
  }
}

function requestBody(state) {
  const body = { lang: lang(), limit: state.limit };
  if (state.challenge) body.challenge = state.challenge;
  if (state.topics.length) body.topics = state.topics;
  if (state.languages.length) body.languages = state.languages;
  if (state.regions.length) body.regions = state.regions;
  if (state.city) body.city = state.city;
  if (state.country) body.country = state.country;
  return body;
}

/** Which parts of the score mean something for this request (no "Region 0 %" without a region). */
function applicableParts(body, interpreted) {
  const parts = new Set();
  if (body.challenge) parts.add('text');
  if (body.topics || (interpreted.topics || []).length) parts.add('topic');
  if (body.languages || interpreted.language) parts.add('language');
  if (body.regions || body.country || (interpreted.regions || []).length || (interpreted.countries || []).length) parts.add('region');
  parts.add('evidence');
  return parts;
}

function clearResults() {
  $('match-list').replaceChildren();
  $('match-interpreted').hidden = true;
  $('match-interpreted').replaceChildren();
  $('match-results-h').hidden = true;
}

/** Empties the results and messages (a state without a question). */
export function reset() {
  if (controller) controller.abort();
  clearResults();
  $('match-status').textContent = '';
  $('match-error').textContent = '';
  $('match-form-error').textContent = '';
  clearFieldErrors($('match-form'));
}

/** Asks the server for `state` and shows the answer; `focus` moves focus to the results. */
export async function run(state, { focus = false } = {}) {
  if (!hasMatchQuery(state)) { reset(); return; }
  const body = requestBody(state);
  const key = JSON.stringify(body);
  clearFieldErrors($('match-form'));
  $('match-form-error').textContent = '';
  $('match-error').textContent = '';
  if (controller) controller.abort();
  const ctrl = controller = new AbortController();
  $('m-submit').disabled = true;
  $('match-list').setAttribute('aria-busy', 'true');
  $('match-status').textContent = t('match.searching');
  try {
    let data = cache.get(key);
    if (!data) {
      ({ data } = await api('/v1/match', { method: 'POST', body, signal: ctrl.signal }));
      cache.set(key, data);
      if (cache.size > 30) cache.delete(cache.keys().next().value);
    }
    if (ctrl !== controller) return;
    render(data, body);
    if (focus) $('match-results-h').focus();
  } catch (error) {
    if (isAbort(error) || ctrl !== controller) return;
    clearResults(); // an error never leaves the previous question's results standing
    $('match-status').textContent = '';
    if (error instanceof ApiError && error.fields.length) {
      const { first, unplaced } = showFieldErrors($('match-form'), 'm-', error.fields);
      if (first && first.closest('#m-options')) $('m-options').open = true;
      $('match-form-error').textContent = t('common.fix_fields') + (unplaced.length ? ' ' + unplaced.join(' · ') : '');
      focusField(first);
    } else {
      $('match-error').textContent = errorText(error);
    }
  } finally {
    if (ctrl === controller) {
      controller = null;
      $('m-submit').disabled = false;
      $('match-list').removeAttribute('aria-busy');
    }
  }
}

function interpretation(interpreted) {
  const nodes = [];
  const weights = interpreted.weights && typeof interpreted.weights === 'object' ? Object.entries(interpreted.weights) : [];
  const picks = weights.length
    ? weights.filter(([, weight]) => Number(weight) > 0).sort((a, b) => b[1] - a[1])
    : (interpreted.topics || []).map((id) => [id, null]);
  if (interpreted.reading) nodes.push(h('p', null, h('strong', null, t('match.reads_as') + ' '), h('span', { dir: 'auto' }, interpreted.reading)));
  if (picks.length) {
    if (!interpreted.reading) nodes.push(h('p', null, h('strong', null, weights.length ? t('match.reads_as') : t('match.understood'))));
    nodes.push(h('ul', { class: 'topic-picks', 'aria-label': t('match.reads_as_hint') }, picks.map(([id, weight]) => h('li', null,
      h('button', { type: 'button', title: t('match.use_topic', { topic: topicLabel(id) }), onclick: () => useOnly(id) },
        topicLabel(id), weight == null ? null : h('span', { class: 'pct' }, ' ' + fmtPct(weight)),
        h('span', { class: 'sr-only' }, ' — ' + t('match.use_topic', { topic: topicLabel(id) })))))));
    nodes.push(h('p', { class: 'hint' }, t('match.reads_as_hint')));
  }
  if (interpreted.language) nodes.push(h('p', { class: 'hint' }, t('match.text_language') + ' ' + languageName(interpreted.language)));
  return nodes;
}

function render(data, body) {
  const matches = Array.isArray(data.matches) ? data.matches : [];
  const interpreted = data.interpreted || {};
  $('match-results-h').hidden = false;
  $('match-status').textContent = matches.length ? tn('match.count', matches.length) : t('match.none');
  const info = $('match-interpreted');
  const nodes = interpretation(interpreted);
  info.replaceChildren(...nodes);
  info.hidden = !nodes.length;
  const applies = applicableParts(body, interpreted);
  $('match-list').replaceChildren(...matches.map((match, i) => h('li', null, matchCard(match, i, applies))));
}

/** The user corrects the reading: search for one topic only (the text stays). */
function useOnly(topic) {
  const state = readForm();
  state.topics = [topic];
  buildChoices(state);
  onSubmit(state);
}

/** Wires the form; `submit(state)` records the state in the URL and runs it. */
export function initMatch(submit) {
  onSubmit = submit;
  $('match-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const state = readForm();
    clearFieldErrors($('match-form'));
    $('match-form-error').textContent = '';
    if (!hasMatchQuery(state)) {
      const { first } = showFieldErrors($('match-form'), 'm-', [{ field: 'challenge', message: t('match.need_challenge') }]);
      focusField(first);
      return;
    }
    onSubmit(state);
  });
  $('m-challenge').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $('match-form').requestSubmit();
    }
  });
}

export { emptyMatch };
