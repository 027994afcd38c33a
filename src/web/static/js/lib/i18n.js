// Interface strings and formatting for scripts. Strings come from /i18n/{lang}.json (the server
// fills keys a translation lacks from English); the page's language is <html lang>.

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'pt', 'ar'];
const RTL = new Set(['ar']);

let strings = {};
let current = 'en';

/** The language of the page (one the platform has), from <html lang>. */
export function pageLang() {
  const code = String(document.documentElement.lang || 'en').slice(0, 2).toLowerCase();
  return LANGUAGES.includes(code) ? code : 'en';
}
export const lang = () => current;
export const dirOf = (code) => (RTL.has(code) ? 'rtl' : 'ltr');

/** Loads the strings of `code` (default: the page's language); `origin` for other sites. */
export async function loadStrings(code = pageLang(), origin = '') {
  current = LANGUAGES.includes(code) ? code : 'en';
  try {
    const response = await fetch(`${origin}/i18n/${current}.json`, { credentials: 'omit' });
    if (response.ok) strings = await response.json();
  } catch (_) {
    strings = {}; // keys are shown instead of text; the page still works
  }
  return strings;
}

function lookup(key) {
  return key.split('.').reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), strings);
}
export function fill(text, vars) {
  return String(text).replace(/\{(\w+)\}/g, (whole, name) =>
    (vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole));
}
/** The string at a dotted key, with {placeholders} filled. */
export function t(key, vars) {
  const value = lookup(key);
  return typeof value === 'string' ? fill(value, vars) : key;
}
/** A counted string: the key holds plural forms ({one, other}, Arabic also zero/two/few/many). */
export function tn(key, n, vars) {
  const value = lookup(key);
  if (!value || typeof value !== 'object') return t(key, vars);
  let form = 'other';
  try { form = new Intl.PluralRules(current).select(n); } catch (_) { /* keep other */ }
  return fill(value[form] ?? value.other, { n: fmtInt(n), ...vars });
}
/** Whether a string exists (for optional labels). */
export const has = (key) => typeof lookup(key) === 'string';

export function fmtInt(n) {
  try { return new Intl.NumberFormat(current).format(n); } catch (_) { return String(n); }
}
export function fmtPct(x) {
  const value = Math.max(0, Math.min(1, Number(x) || 0));
  try {
    return new Intl.NumberFormat(current, { style: 'percent', maximumFractionDigits: 0 }).format(value);
  } catch (_) { return Math.round(value * 100) + '%'; }
}
export function fmtDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso || '');
  try {
    return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  } catch (_) { return date.toISOString(); }
}

const displayNames = new Map();
function intlName(type, code) {
  try {
    const key = current + ':' + type;
    if (!displayNames.has(key)) displayNames.set(key, new Intl.DisplayNames([current], { type, fallback: 'none' }));
    return displayNames.get(key).of(code) || null;
  } catch (_) { return null; }
}
export const countryName = (code) => intlName('region', String(code).toUpperCase()) || String(code);
export const languageName = (code) => intlName('language', String(code).toLowerCase()) || String(code);
export const regionName = (slug) => t('regions.' + slug) !== 'regions.' + slug ? t('regions.' + slug) : String(slug);
export function collate(a, b) {
  try { return String(a).localeCompare(String(b), current); } catch (_) { return a < b ? -1 : a > b ? 1 : 0; }
}
/** Joins a list with the language's separator (Arabic uses "، "). */
export const joinList = (items) => items.filter(Boolean).join(t('common.list_separator'));
/** Like t(), but values may be DOM nodes: returns the pieces to append (text and nodes). */
export function tParts(key, vars) {
  const pieces = [];
  const text = t(key);
  let last = 0;
  for (const found of text.matchAll(/\{(\w+)\}/g)) {
    pieces.push(text.slice(last, found.index));
    const value = vars && vars[found[1]];
    pieces.push(value == null ? found[0] : value);
    last = found.index + found[0].length;
  }
  pieces.push(text.slice(last));
  return pieces.filter((piece) => piece !== '');
}
