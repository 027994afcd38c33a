// The practitioner page keeps what is shown in the URL, so a result can be shared and
// Back/Forward step through earlier questions. One view's state at a time:
//   ?view=match&challenge=…&topic=…&language=…&region=…&city=…&country=…&limit=…
//   ?view=search&q=…&topic=…&region=…&country=…&language=…&available=true&limit=…&offset=…
// (`lang` is kept as it is; lists may also be comma-separated.)

export const FACETS = ['topic', 'region', 'country', 'language'];

export const emptyMatch = () => ({ challenge: '', topics: [], languages: [], regions: [], city: '', country: '', limit: 10 });
export const emptySearch = () => ({
  q: '', filters: { topic: [], region: [], country: [], language: [] }, available: false, limit: 20, offset: 0,
});

function int(value, fallback, min, max) {
  const n = parseInt(value, 10);
  return Number.isFinite(n) ? Math.max(min, Math.min(max, n)) : fallback;
}

/** Reads the state from a query string. */
export function parse(query = location.search) {
  const params = new URLSearchParams(query);
  const list = (name) => params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  // (`#search` is how older links named the search tab.)
  const view = params.get('view') === 'search' || (!params.has('view') && location.hash === '#search') ? 'search' : 'match';
  const state = { view, match: emptyMatch(), search: emptySearch() };
  if (view === 'match') {
    state.match = {
      challenge: params.get('challenge') || '', topics: list('topic'), languages: list('language'),
      regions: list('region'), city: params.get('city') || '', country: (params.get('country') || '').toUpperCase(),
      limit: int(params.get('limit'), 10, 1, 50),
    };
  } else {
    state.search = {
      q: params.get('q') || '',
      filters: Object.fromEntries(FACETS.map((facet) => [facet, list(facet)])),
      available: params.get('available') === 'true',
      limit: int(params.get('limit'), 20, 1, 100), offset: int(params.get('offset'), 0, 0, 10000),
    };
  }
  return state;
}

/** The query string for one view's state (keeps the current `lang`). */
export function toQuery(view, data) {
  const params = new URLSearchParams();
  const lang = new URLSearchParams(location.search).get('lang');
  if (lang) params.set('lang', lang);
  if (view === 'search') {
    params.set('view', 'search');
    if (data.q) params.set('q', data.q);
    for (const facet of FACETS) for (const value of data.filters[facet]) params.append(facet, value);
    if (data.available) params.set('available', 'true');
    if (data.limit !== 20) params.set('limit', String(data.limit));
    if (data.offset) params.set('offset', String(data.offset));
  } else if (hasMatchQuery(data)) {
    if (data.challenge) params.set('challenge', data.challenge);
    for (const value of data.topics) params.append('topic', value);
    for (const value of data.languages) params.append('language', value);
    for (const value of data.regions) params.append('region', value);
    if (data.city) params.set('city', data.city);
    if (data.country) params.set('country', data.country);
    if (data.limit !== 10) params.set('limit', String(data.limit));
  }
  const text = params.toString();
  return text ? '?' + text : location.pathname;
}

export const hasMatchQuery = (match) => Boolean(match.challenge || match.topics.length);

/** Puts a state in the history (a new entry unless `replace`); no entry when nothing changed. */
export function commit(view, data, replace) {
  const query = toQuery(view, data);
  const target = query.startsWith('?') ? location.pathname + query : query;
  if (target === location.pathname + location.search) return;
  if (replace) history.replaceState({ view }, '', target);
  else history.pushState({ view }, '', target);
}
