// The staff-mediated contact form (templates/_contact_dialog.html): POST /v1/contact-requests.
import { t } from './i18n.js';
import { api, ApiError, errorText } from './api.js';
import { $, clearFieldErrors, showFieldErrors, focusField } from './dom.js';

const state = { expert: null, opener: null, sending: false };
let dialog = null;

function reset() {
  const form = $('contact-form');
  clearFieldErrors(form);
  $('contact-error').textContent = '';
  $('contact-done').hidden = true;
  $('contact-done').textContent = '';
  $('contact-done-actions').hidden = true;
  form.hidden = false;
  $('c-message').value = '';
}

/** Opens the form for `expert` ({id, name}); focus returns to `opener` on close. */
export function openContact(expert, opener) {
  if (!dialog) setup();
  state.expert = expert;
  state.opener = opener || null;
  $('contact-title').textContent = t('contact.title', { name: expert.name || expert.id });
  reset();
  dialog.showModal();
  ($('c-name').value ? $('c-message') : $('c-name')).focus();
}

function checkLocally(body) {
  const errors = [];
  if (!body.name) errors.push({ field: 'name', message: t('common.required') });
  if (!body.email) errors.push({ field: 'email', message: t('common.required') });
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) errors.push({ field: 'email', message: t('contact.email_invalid') });
  if (!body.message) errors.push({ field: 'message', message: t('common.required') });
  return errors;
}

async function submit(event) {
  event.preventDefault();
  if (state.sending || !state.expert) return;
  const form = $('contact-form');
  clearFieldErrors(form);
  $('contact-error').textContent = '';
  const body = {
    expert_id: state.expert.id,
    name: $('c-name').value.trim(),
    email: $('c-email').value.trim(),
    organisation: $('c-organisation').value.trim() || undefined,
    message: $('c-message').value.trim(),
  };
  const local = checkLocally(body);
  if (local.length) {
    const { first } = showFieldErrors(form, 'c-', local);
    $('contact-error').textContent = t('common.fix_fields');
    focusField(first);
    return;
  }
  state.sending = true;
  const button = $('c-submit');
  button.disabled = true;
  button.textContent = t('contact.sending');
  try {
    const { data } = await api('/v1/contact-requests', { method: 'POST', body });
    form.hidden = true;
    const done = $('contact-done');
    done.textContent = t('contact.sent', { id: (data && data.id) || '—' });
    done.hidden = false;
    $('contact-done-actions').hidden = false;
    done.focus();
  } catch (error) {
    if (error instanceof ApiError && error.fields.length) {
      const { first, unplaced } = showFieldErrors(form, 'c-', error.fields);
      $('contact-error').textContent = unplaced.length ? unplaced.join(' · ') : t('common.fix_fields');
      focusField(first);
    } else {
      $('contact-error').textContent = errorText(error);
    }
  } finally {
    state.sending = false;
    button.disabled = false;
    button.textContent = t('contact.send');
  }
}

function setup() {
  dialog = $('contact-dialog');
  $('contact-form').addEventListener('submit', submit);
  for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    if (state.opener && document.contains(state.opener)) state.opener.focus();
  });
}

/** Shows and wires every server-rendered [data-contact-id] button under `root`. */
export function bindContactButtons(root = document) {
  for (const button of root.querySelectorAll('[data-contact-id]')) {
    button.hidden = false;
    button.addEventListener('click', () =>
      openContact({ id: button.dataset.contactId, name: button.dataset.contactName }, button));
  }
}
