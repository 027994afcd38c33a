// Shared bits of the desk: messages, status badges, value display.
import { t, joinList } from '../lib/i18n.js';
import { $, h } from '../lib/dom.js';
import { errorText } from '../lib/api.js';

/** A success message in the live region (and optionally focus on it). */
export function notify(text, focus) {
  $('desk-error').textContent = '';
  const notice = $('desk-notice');
  notice.textContent = text;
  if (focus) notice.focus();
}
export function fail(error) {
  $('desk-notice').textContent = '';
  $('desk-error').textContent = typeof error === 'string' ? error : errorText(error);
}
let pending = '';
/** A message to show once the next view has opened. */
export const flash = (text) => { pending = text; };
export function takeFlash() { const text = pending; pending = ''; return text; }

export function clearMessages() {
  $('desk-notice').textContent = '';
  $('desk-error').textContent = '';
}

export const statusBadge = (status) => h('span', { class: 'badge ' + (status || '') }, t('admin.status.' + status) !== 'admin.status.' + status ? t('admin.status.' + status) : String(status || '—'));

/** A value as text for tables and the conflict view. */
export function show(value) {
  if (value == null || value === '' || (Array.isArray(value) && !value.length)) return t('admin.conflict.empty');
  if (Array.isArray(value)) return joinList(value.map(String));
  if (typeof value === 'boolean') return value ? t('admin.fields.yes') : t('admin.fields.no');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Focuses a view's heading after navigation (screen readers hear where they are). */
export function focusHeading(id) {
  const heading = $(id);
  if (heading) heading.focus({ preventScroll: false });
}

/** Closes dialogs on [data-close] buttons and backdrop clicks. */
export function wireDialog(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });
}
