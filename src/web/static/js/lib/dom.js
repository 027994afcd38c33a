// Small DOM helpers shared by every page. Text always goes in as text, never as markup.

export const $ = (id) => document.getElementById(id);

/** Builds an element: h('p', {class: 'x', onclick: fn}, 'text', child, [more]). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A bar of `value` in [0, 1] (width set through CSSOM, which the CSP allows). */
export function bar(value, thin) {
  const inner = h('span');
  inner.style.inlineSize = (Math.max(0, Math.min(1, Number(value) || 0)) * 100).toFixed(1) + '%';
  return h('span', { class: 'bar' + (thin ? ' thin' : ''), 'aria-hidden': 'true' }, inner);
}

/** Only http(s) URLs become links. */
export function safeHttpUrl(raw) {
  try {
    const url = new URL(String(raw), location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch (_) { return null; }
}

const DROP = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'object', 'svg', 'math', 'textarea', 'title']);
/** Highlight snippets: only text and <mark> are kept, parsed in an inert document. */
export function markFragment(html) {
  const fragment = document.createDocumentFragment();
  const doc = new DOMParser().parseFromString('<!doctype html><body>' + String(html), 'text/html');
  (function copy(from, to) {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) to.append(document.createTextNode(node.data));
      else if (node.nodeType === Node.ELEMENT_NODE && node.localName === 'mark') copy(node, to.appendChild(document.createElement('mark')));
      else if (node.nodeType === Node.ELEMENT_NODE && !DROP.has(node.localName)) copy(node, to);
    }
  })(doc.body, fragment);
  return fragment;
}

/** Clears the field errors inside `root`. */
export function clearFieldErrors(root) {
  for (const el of root.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Shows API field errors in place: field "languages[2]" goes to the element with id
 * prefix + "languages" and its message to prefix + "languages-err". Returns the first
 * invalid element and the messages that had no place.
 */
export function showFieldErrors(root, prefix, errors) {
  let first = null;
  const unplaced = [];
  for (const error of errors) {
    const name = String(error.field || '').replace(/[[.].*$/, '');
    const target = name ? root.querySelector('#' + CSS.escape(prefix + name)) : null;
    const slot = name ? root.querySelector('#' + CSS.escape(prefix + name + '-err')) : null;
    if (target && slot) {
      slot.textContent = slot.textContent ? slot.textContent + ' ' + error.message : String(error.message || '');
      target.setAttribute('aria-invalid', 'true');
      first = first || target;
    } else {
      unplaced.push(name ? name + ': ' + error.message : String(error.message || ''));
    }
  }
  return { first, unplaced };
}

/** Focuses a field, or the first control inside a fieldset. */
export function focusField(el) {
  if (!el) return;
  const control = el.matches('input, select, textarea, button') ? el : el.querySelector('input, select, textarea, button');
  if (control) control.focus();
}

/** Text of a free-text value for display: dir="auto" so Arabic and Latin both read right. */
export const autoText = (tag, text, attrs) => h(tag, { dir: 'auto', ...(attrs || {}) }, text);
