// The practitioner page: tabs "Find a peer" and "Search experts", with their state in the URL.
// Changing the page language loads the page anew in that language (the server renders it) with
// the same state, so the match is asked again and its reasons come in the new language.
import { loadStrings, t } from '../lib/i18n.js';
import { $ } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { parse, commit, emptyMatch } from './state.js';
import { loadVocab } from './vocab.js';
import * as match from './match.js';
import * as search from './search.js';

const DRAFT_KEY = 'citypeers.draft';
const tabs = { match: $('tab-match'), search: $('tab-search') };
const page = { view: 'match', match: emptyMatch(), searchRan: false };

function show(view) {
  page.view = view;
  for (const [name, tab] of Object.entries(tabs)) {
    const on = name === view;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute('aria-controls')).hidden = !on;
  }
}

function selectTab(view, focusTab) {
  if (view === page.view) { if (focusTab) tabs[view].focus(); return; }
  show(view);
  if (focusTab) tabs[view].focus();
  commit(view, view === 'search' ? search.current() : page.match);
  if (view === 'search' && !page.searchRan) { page.searchRan = true; search.run(); }
}

/** Shows what a URL describes (page load, Back, Forward). */
function apply(state) {
  show(state.view);
  if (state.view === 'match') {
    page.match = state.match;
    match.fillForm(state.match);
    match.run(state.match);
  } else {
    search.fillForm(state.search);
    page.searchRan = true;
    search.run();
  }
}

function wireTabs() {
  const order = ['match', 'search'];
  for (const [name, tab] of Object.entries(tabs)) {
    tab.addEventListener('click', () => selectTab(name, false));
    tab.addEventListener('keydown', (event) => {
      const i = order.indexOf(name);
      const rtl = document.documentElement.dir === 'rtl';
      const keys = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 };
      let next = null;
      if (event.key in keys) next = order[(i + keys[event.key] + order.length) % order.length];
      else if (event.key === 'Home') next = order[0];
      else if (event.key === 'End') next = order[order.length - 1];
      if (next) { event.preventDefault(); selectTab(next, true); }
    });
  }
}

/** Language links keep the state: the URL's, plus what was typed but not yet sent. */
function wireLanguageLinks() {
  for (const link of document.querySelectorAll('a.lang-link')) {
    link.addEventListener('click', (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      try { sessionStorage.setItem(DRAFT_KEY, JSON.stringify(match.readForm())); } catch (_) { /* storage may be off */ }
      const params = new URLSearchParams(location.search);
      params.set('lang', link.dataset.lang);
      location.assign(location.pathname + '?' + params.toString());
    });
  }
}

function restoreDraft() {
  let draft = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || 'null');
    sessionStorage.removeItem(DRAFT_KEY);
  } catch (_) { draft = null; }
  if (draft && typeof draft === 'object' && typeof draft.challenge === 'string') match.fillForm({ ...emptyMatch(), ...draft });
}

async function start() {
  await loadStrings();
  wireTabs();
  wireLanguageLinks();
  match.initMatch((state) => {
    page.match = state;
    commit('match', state);
    match.run(state, { focus: true });
  });
  search.initSearch((state) => commit('search', state));
  match.buildChoices();
  try {
    await loadVocab();
  } catch (error) {
    $('match-form-error').textContent = t('match.vocab_failed') + ' ' + errorText(error);
  }
  apply(parse());
  restoreDraft();
  window.addEventListener('popstate', () => apply(parse()));
}

start();
