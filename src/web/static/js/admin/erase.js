// Erasing a person (personal-data deletion): the staff member types the person's name to
// confirm; DELETE /v1/admin/experts/{id}?erase=true with If-Match.
import { t } from '../lib/i18n.js';
import { $ } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { adminApi, kindPath } from './client.js';
import { flash, wireDialog } from './ui.js';

let target = null;
const squash = (text) => String(text || '').normalize('NFC').trim().replace(/\s+/g, ' ');

/** Opens the dialog for {id, name, etag: () => etag, opener}. */
export function openErase(person) {
  target = person;
  $('erase-h').textContent = t('admin.erase.heading', { name: person.name });
  $('erase-label').textContent = t('admin.erase.confirm', { name: person.name });
  $('erase-confirm').value = '';
  $('erase-confirm').removeAttribute('aria-invalid');
  $('erase-confirm-err').textContent = '';
  $('erase-error').textContent = '';
  $('erase-dialog').showModal();
  $('erase-confirm').focus();
}

async function submit(event) {
  event.preventDefault();
  if (!target) return;
  if (squash($('erase-confirm').value) !== squash(target.name)) {
    $('erase-confirm').setAttribute('aria-invalid', 'true');
    $('erase-confirm-err').textContent = t('admin.erase.mismatch');
    $('erase-confirm').focus();
    return;
  }
  $('erase-submit').disabled = true;
  try {
    await adminApi(kindPath('experts', target.id) + '?erase=true', { method: 'DELETE', ifMatch: target.etag() || '*' });
    const name = target.name;
    target = null;
    $('erase-dialog').close();
    flash(t('admin.erase.done', { name }));
    location.hash = '#records';
  } catch (error) {
    $('erase-error').textContent = errorText(error);
  } finally {
    $('erase-submit').disabled = false;
  }
}

export function initErase() {
  const dialog = $('erase-dialog');
  wireDialog(dialog);
  $('erase-form').addEventListener('submit', submit);
  dialog.addEventListener('close', () => {
    if (target && target.opener && document.contains(target.opener)) target.opener.focus();
  });
}
