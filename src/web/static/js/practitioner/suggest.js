// Completions and did-you-mean under the search box (GET /v1/suggest), as an ARIA combobox.
// Once a search has been started (Enter, a click, a choice) the list stays closed until the
// user types again, so a late answer never reopens it over the results.
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { $, h } from '../lib/dom.js';

const state = { timer: 0, controller: null, items: [], active: -1, cache: new Map(), suppressed: false };
let choose = () => {};

const input = () => $('s-q');
const listbox = () => $('s-suggest');

/** Closes the list and keeps it closed until the next keystroke. */
export function closeSuggestions() {
  clearTimeout(state.timer);
  if (state.controller) state.controller.abort();
  state.suppressed = true;
  hide();
}

function hide() {
  listbox().hidden = true;
  listbox().replaceChildren();
  input().setAttribute('aria-expanded', 'false');
  input().removeAttribute('aria-activedescendant');
  state.items = [];
  state.active = -1;
}

function show(data) {
  const nodes = [];
  state.items = [];
  for (const group of [{ key: 'did_you_mean', title: t('search.did_you_mean') }, { key: 'completions', title: null }]) {
    const entries = Array.isArray(data[group.key]) ? data[group.key] : [];
    if (!entries.length) continue;
    if (group.title) nodes.push(h('li', { class: 'grp', role: 'presentation' }, group.title + '…'));
    for (const entry of entries) {
      const index = state.items.length;
      state.items.push(entry);
      nodes.push(h('li', {
        role: 'option', id: 's-opt-' + index, 'aria-selected': 'false',
        onmousedown: (event) => event.preventDefault(),
        onclick: () => pick(index),
      }, h('span', { dir: 'auto' }, group.title ? h('span', { class: 'sr-only' }, group.title + ': ') : null, entry.text),
      h('span', { class: 'kind' }, t('search.kind.' + entry.type))));
    }
  }
  if (!state.items.length) { hide(); return; }
  listbox().replaceChildren(...nodes);
  listbox().hidden = false;
  input().setAttribute('aria-expanded', 'true');
  state.active = -1;
  input().removeAttribute('aria-activedescendant');
}

function setActive(index) {
  const options = listbox().querySelectorAll('[role=option]');
  if (!options.length) return;
  state.active = (index + options.length) % options.length;
  options.forEach((option, i) => option.setAttribute('aria-selected', String(i === state.active)));
  input().setAttribute('aria-activedescendant', options[state.active].id);
  options[state.active].scrollIntoView({ block: 'nearest' });
}

function pick(index) {
  const entry = state.items[index];
  if (!entry) return;
  input().value = entry.text;
  closeSuggestions();
  choose(entry.text);
}

async function fetchFor(q) {
  if (state.suppressed) return;
  if (state.cache.has(q)) { if (input().value.trim() === q) show(state.cache.get(q)); return; }
  if (state.controller) state.controller.abort();
  const ctrl = state.controller = new AbortController();
  try {
    const { data } = await api('/v1/suggest?q=' + encodeURIComponent(q), { signal: ctrl.signal });
    state.cache.set(q, data);
    if (!state.suppressed && ctrl === state.controller && input().value.trim() === q && document.activeElement === input()) show(data);
  } catch (_) { /* suggestions are optional */ }
}

/** Wires the box; `onChoose(text)` runs a search for a chosen suggestion. */
export function initSuggestions(onChoose) {
  choose = onChoose;
  const box = input();
  box.addEventListener('input', () => {
    state.suppressed = false;
    clearTimeout(state.timer);
    const q = box.value.trim();
    if (!q) { hide(); return; }
    state.timer = setTimeout(() => fetchFor(q), 160);
  });
  box.addEventListener('keydown', (event) => {
    const open = !listbox().hidden;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (open) setActive(state.active + 1);
      else if (box.value.trim()) { state.suppressed = false; fetchFor(box.value.trim()); }
    } else if (event.key === 'ArrowUp' && open) {
      event.preventDefault();
      setActive(state.active - 1);
    } else if (event.key === 'Enter' && open && state.active >= 0) {
      event.preventDefault();
      pick(state.active);
    } else if (event.key === 'Enter') {
      closeSuggestions(); // the form's submit follows
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      hide();
    } else if (event.key === 'Tab') {
      hide();
    }
  });
  box.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== box) hide(); }, 120));
}
