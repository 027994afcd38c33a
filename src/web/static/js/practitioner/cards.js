// Result cards of the practitioner page: who the person is, why they fit, what they did.
import { t, lang, fmtPct, countryName, languageName, joinList } from '../lib/i18n.js';

const labelled = (label) => t('common.label', { label });
import { h, bar, markFragment } from '../lib/dom.js';
import { openContact } from '../lib/contact.js';
import { topicLabel } from './vocab.js';

export const profileHref = (id) => `/experts/${encodeURIComponent(id)}?lang=${lang()}`;
export const caseHref = (id) => `/cases/${encodeURIComponent(id)}?lang=${lang()}`;

function personHead(expert, idBase) {
  const place = joinList([expert.city, expert.country ? countryName(expert.country) : null]);
  return h('div', null,
    h('h3', { id: idBase + '-name' }, h('a', { href: profileHref(expert.id), dir: 'auto' }, expert.name || expert.id)),
    expert.position ? h('p', { class: 'meta' }, h('strong', { dir: 'auto' }, expert.position)) : null,
    expert.organisation ? h('p', { class: 'meta' }, h('span', { dir: 'auto' }, expert.organisation)) : null,
    place ? h('p', { class: 'meta' }, h('span', { dir: 'auto' }, place)) : null);
}

function actions(expert, contactLabel) {
  const name = expert.name || expert.id;
  return h('div', { class: 'actions' },
    h('button', { type: 'button', onclick: (event) => openContact({ id: expert.id, name }, event.currentTarget) },
      contactLabel, h('span', { class: 'sr-only' }, ': ' + name)),
    h('a', { href: profileHref(expert.id), class: 'small' }, t('match.profile'), h('span', { class: 'sr-only' }, ': ' + name)));
}

/** A suggested peer; `applies` names the breakdown parts that mean something for this request. */
export function matchCard(match, index, applies) {
  const expert = match.expert || {};
  const idBase = 'm' + index;
  const parts = ['text', 'topic', 'language', 'region', 'evidence']
    .filter((key) => applies.has(key) && typeof (match.breakdown || {})[key] === 'number');
  const breakdown = parts.length ? h('ul', { class: 'breakdown', 'aria-label': t('match.breakdown') },
    parts.map((key) => h('li', null,
      h('span', { class: 'k' }, t('breakdown.' + key)), h('span', { class: 'v' }, fmtPct(match.breakdown[key])),
      bar(match.breakdown[key], true)))) : null;
  const reasons = Array.isArray(match.reasons) && match.reasons.length
    ? [h('h4', { class: 'sub-h' }, t('match.reasons')), h('ul', { class: 'reasons' }, match.reasons.map((reason) => h('li', null, reason)))]
    : null;
  const cases = Array.isArray(match.cases) && match.cases.length
    ? [h('h4', { class: 'sub-h' }, t('match.cases')), h('ul', { class: 'case-list' }, match.cases.map((ref) =>
        h('li', null, h('a', { href: caseHref(ref.id), dir: 'auto' }, ref.title || ref.id))))]
    : null;
  return h('article', { class: 'card', 'aria-labelledby': idBase + '-name' },
    h('div', { class: 'card-head' }, personHead(expert, idBase),
      h('div', { class: 'score' }, h('span', { class: 'lbl' }, t('match.score')), bar(match.score),
        h('span', { class: 'val' }, fmtPct(match.score)))),
    breakdown, reasons, cases, actions(expert, t('match.contact')));
}

const FIELD_ORDER = ['name', 'position', 'organisation', 'city', 'expertise', 'bio'];

/** A search hit, with the highlighted passages. */
export function searchCard(hit, index) {
  const expert = hit.expert || {};
  const idBase = 's' + index;
  const rank = (key) => { const i = FIELD_ORDER.indexOf(key); return i < 0 ? FIELD_ORDER.length : i; };
  const highlights = hit.highlights && typeof hit.highlights === 'object'
    ? Object.entries(hit.highlights).filter(([field]) => field !== 'name').sort((a, b) => rank(a[0]) - rank(b[0])) : [];
  let snippet = null;
  if (highlights.length) {
    snippet = highlights.map(([field, html]) => h('p', { class: 'hl' },
      h('span', { class: 'hl-lbl' }, labelled(t('search.field.' + field) !== 'search.field.' + field ? t('search.field.' + field) : field)),
      h('span', { class: 'hl-text', dir: 'auto' }, markFragment(html))));
  } else if (expert.expertise) {
    const text = String(expert.expertise);
    snippet = h('p', { class: 'hl', dir: 'auto' }, text.length > 260 ? text.slice(0, 260).replace(/\s+\S*$/, '') + '…' : text);
  }
  const topics = (expert.topics || []).length
    ? h('ul', { class: 'chips', 'aria-label': t('record.topics') }, expert.topics.map((topic) => h('li', null, topicLabel(topic))))
    : null;
  const languages = (expert.languages || []).length
    ? h('p', { class: 'meta small' }, labelled(t('search.speaks')) + ' ' + joinList(expert.languages.map(languageName)))
    : null;
  return h('article', { class: 'card', 'aria-labelledby': idBase + '-name' },
    h('div', { class: 'card-head' }, personHead(expert, idBase),
      expert.available === false ? h('span', { class: 'badge' }, t('record.unavailable')) : null),
    snippet, topics, languages, actions(expert, t('match.contact')));
}
