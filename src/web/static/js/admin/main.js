// The staff desk: sign in with an admin token, then records, import, duplicates and the
// contact-request inbox. Views are addressed by the URL fragment (#records, #experts/{id},
// #cases/new, #import, #duplicates, #inbox) so Back/Forward and links work.
import { loadStrings, t } from '../lib/i18n.js';
import { $ } from '../lib/dom.js';
import { errorText } from '../lib/api.js';
import { getToken, setToken, clearToken, tryToken, onSignedOut } from './client.js';
import { clearMessages, focusHeading, notify, takeFlash } from './ui.js';
import * as records from './records.js';
import * as editor from './editor.js';
import * as importer from './import.js';
import * as duplicates from './duplicates.js';
import * as inbox from './inbox.js';
import { initAudit } from './audit.js';
import { initErase } from './erase.js';

const VIEWS = ['records', 'editor', 'import', 'duplicates', 'inbox'];

function showView(name) {
  for (const view of VIEWS) $('view-' + view).hidden = view !== name;
  const section = name === 'editor' ? 'records' : name;
  for (const link of document.querySelectorAll('.desk-nav a')) {
    if (link.dataset.view === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** Shows what the fragment names. */
async function route() {
  if (!getToken()) return;
  const hash = decodeURIComponent(location.hash.replace(/^#/, ''));
  const [head, ...rest] = hash.split('/');
  const id = rest.join('/');
  clearMessages();
  const flashed = takeFlash();
  if (flashed) notify(flashed, false);
  if ((head === 'experts' || head === 'cases') && id) {
    showView('editor');
    await editor.open(head, id === 'new' ? null : id);
    focusHeading('editor-h');
  } else if (head === 'import' || head === 'duplicates' || head === 'inbox') {
    showView(head);
    focusHeading(head + '-h');
    if (head === 'duplicates') await duplicates.load();
    if (head === 'inbox') await inbox.load();
  } else {
    showView('records');
    focusHeading('records-h');
    await records.load(head === 'records' && id ? id : '');
  }
}

function showSignIn(reason) {
  $('desk').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = reason === 'expired' ? t('admin.signin.expired') : '';
  $('signin-token').value = '';
  $('signin-token').focus();
}

function showDesk() {
  $('signin').hidden = true;
  $('desk').hidden = false;
  route();
}

async function signIn(event) {
  event.preventDefault();
  const candidate = $('signin-token').value.trim();
  $('signin-error').textContent = '';
  if (!candidate) { $('signin-error').textContent = t('common.required'); $('signin-token').focus(); return; }
  try {
    if (!(await tryToken(candidate))) {
      $('signin-error').textContent = t('admin.signin.rejected');
      $('signin-token').select();
      return;
    }
  } catch (error) {
    $('signin-error').textContent = errorText(error);
    return;
  }
  setToken(candidate);
  showDesk();
}

async function start() {
  await loadStrings();
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => { clearToken(); showSignIn(''); });
  onSignedOut((reason) => showSignIn(reason));
  records.init();
  editor.init();
  importer.init();
  duplicates.init();
  inbox.init();
  initAudit();
  initErase();
  window.addEventListener('hashchange', route);
  if (getToken()) showDesk(); else showSignIn('');
}

start();
