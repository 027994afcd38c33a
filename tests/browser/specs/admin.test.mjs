// The staff desk: sign-in, create and edit with errors in place, a conflict (412) resolved in
// the conflict view, import with a bad row, merge, the inbox, the audit trail, erasure, sign-out.
import { after } from 'node:test';
import { pageTest, checkA11y, closeBrowser, assert, BASE, TOKEN, adminFetch } from '../lib/harness.mjs';

after(closeBrowser);

// Unique ids, so the specs can also run again against a server that keeps its data.
const RUN = Date.now().toString(36);

async function signIn(page, lang = 'en') {
  await page.goto(`${BASE}/admin?lang=${lang}`);
  await page.waitForSelector('#signin:not([hidden])');
  await page.fill('#signin-token', TOKEN);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#records-table table');
}

pageTest('sign in (a wrong token is refused), records of every status, sign out', async (page) => {
  await page.goto(`${BASE}/admin?lang=en`);
  await page.waitForSelector('#signin:not([hidden])');
  await checkA11y(page, 'sign-in');
  await page.fill('#signin-token', 'not-the-token');
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#signin-error:not(:empty)');
  assert.match(await page.textContent('#signin-error'), /not accepted/);
  await page.fill('#signin-token', TOKEN);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#records-table table');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('citypeers.admin.token')), TOKEN);
  await checkA11y(page, 'records');
  await page.selectOption('#records-kind', 'cases');
  await page.waitForFunction(() => /^#cases\//.test(document.querySelector('#records-table tbody a')?.getAttribute('href') || ''));
  // A token that stops working sends the desk back to the sign-in form.
  await page.evaluate(() => sessionStorage.setItem('citypeers.admin.token', 'revoked'));
  await page.click('#records-form button[type=submit]');
  await page.waitForSelector('#signin:not([hidden])');
  assert.match(await page.textContent('#signin-error'), /session has ended/);
  await page.fill('#signin-token', TOKEN);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#desk:not([hidden])');
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('citypeers.admin.token')), null);
});

pageTest('create a draft with errors shown in place, edit it, find it among drafts, read its history', async (page) => {
  await signIn(page);
  await page.click('a[href="#experts/new"]');
  await page.waitForSelector('#f-name');
  await page.fill('#f-id', `browser-test-draft-${RUN}`);
  await page.fill('#f-name', 'Amina Browser-Test');
  await page.fill('#f-city', 'Agadez');
  await page.fill('#f-country', 'XX');
  await page.click('#editor-save');
  await page.waitForSelector('#f-country[aria-invalid="true"]');
  assert.notEqual((await page.textContent('#f-country-err')).trim(), '', 'the country error is beside the field');
  assert.notEqual((await page.textContent('#f-languages-err')).trim(), '', 'the languages error is beside the field');
  await checkA11y(page, 'editor with field errors');
  await page.fill('#f-country', 'NE');
  await page.fill('#f-languages', 'fr, ha');
  await page.click('#editor-save');
  await page.waitForSelector('#desk-notice:has-text("version 1")');
  assert.match(page.url(), new RegExp(`#experts/browser-test-draft-${RUN}$`));
  await page.fill('#f-position', 'Urban planner');
  await page.click('#editor-save');
  await page.waitForSelector('#desk-notice:has-text("version 2")');
  await page.click('#editor-links button:has-text("History")');
  await page.waitForSelector('#audit-dialog[open] table');
  assert.ok(await page.locator('#audit-body tbody tr').count() >= 2);
  await checkA11y(page, 'audit dialog');
  await page.keyboard.press('Escape');
  await page.click('#editor-back');
  await page.fill('#records-q', 'Browser-Test');
  await page.selectOption('#records-status', 'draft');
  await page.waitForSelector(`#records-table a[href="#experts/browser-test-draft-${RUN}"]`);
});

pageTest('a colleague saves meanwhile (412): the conflict view, choose per field, save again', async (page) => {
  const id = 'adebayo-ogunleye';
  const start = await adminFetch('/v1/admin/experts/' + id);
  await signIn(page);
  await page.goto(`${BASE}/admin?lang=en#experts/${id}`);
  await page.waitForFunction(() => document.getElementById('f-name')?.value);
  await page.fill('#f-position', `Position typed in the browser ${RUN}`);
  await page.fill('#f-bio', `Biography typed in the browser ${RUN}`);
  const colleague = await adminFetch('/v1/admin/experts/' + id, {
    method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json', 'If-Match': start.etag },
    body: JSON.stringify({ organisation: `Organisation saved by a colleague ${RUN}`, bio: `Biography saved by a colleague ${RUN}` }),
  });
  assert.equal(colleague.status, 200);
  await page.click('#editor-save');
  await page.waitForSelector('#conflict:not([hidden]) table');
  assert.equal(await page.isHidden('#editor-form'), true);
  const fields = await page.locator('#conflict tbody tr').evaluateAll((rows) => rows.map((row) => row.dataset.field));
  assert.deepEqual(fields.sort(), ['bio', 'organisation', 'position']);
  assert.equal(await page.isChecked('#choice-position-mine'), true, 'my change is kept by default');
  assert.equal(await page.isChecked('#choice-organisation-theirs'), true, 'their change is taken by default');
  await checkA11y(page, 'conflict view');
  await page.check('#choice-bio-theirs');
  // Back to the form: what was typed is still there.
  await page.click('#conflict button:has-text("Back to my edit")');
  assert.equal(await page.inputValue('#f-position'), `Position typed in the browser ${RUN}`);
  await page.click('#editor-save');
  await page.waitForSelector('#conflict:not([hidden]) table');
  await page.check('#choice-bio-theirs');
  await page.click('#conflict button.primary');
  await page.waitForSelector('#desk-notice:has-text("Saved")');
  const saved = await adminFetch('/v1/admin/experts/' + id);
  assert.equal(saved.data.position, `Position typed in the browser ${RUN}`);
  assert.equal(saved.data.organisation, `Organisation saved by a colleague ${RUN}`);
  assert.equal(saved.data.bio, `Biography saved by a colleague ${RUN}`);
  assert.equal(saved.etag, `"${start.data.version + 2}"`);
});

pageTest('import a CSV with a bad row: the report names its line', async (page) => {
  await signIn(page);
  await page.click('a[href="#import"]');
  await page.waitForSelector('#view-import:not([hidden])');
  const csv = 'id,name,city,country,languages\n' +
    `import-one-${RUN},Import Test One,Tunis,TN,fr;ar\n` +
    `import-two-${RUN},Import Test Two,Nowhere,XX,fr\n`;
  await page.setInputFiles('#import-file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#import-submit');
  await page.waitForSelector('#import-rejected');
  assert.match(await page.textContent('#import-report'), /Created: 1/);
  const line = await page.locator('#import-rejected tbody tr').first().getAttribute('data-line');
  assert.equal(line, '3');
  assert.match(await page.textContent('#import-rejected'), /country/);
  await checkA11y(page, 'import report');
});

pageTest('duplicates: compare side by side, keep one, merge', async (page) => {
  await signIn(page);
  await page.click('a[href="#duplicates"]');
  await page.waitForSelector('#duplicates-list li');
  const first = page.locator('#duplicates-list li').first();
  const a = await first.getAttribute('data-a');
  const b = await first.getAttribute('data-b');
  await first.locator('button').click();
  await page.waitForSelector('#duplicates-compare table');
  await checkA11y(page, 'duplicates compare');
  await page.check(`#duplicates-compare input[name=keep][value="${b}"]`);
  await page.click('#duplicates-compare button[type=submit]');
  await page.waitForSelector('#desk-notice:not(:empty)');
  const merged = await adminFetch('/v1/admin/experts/' + a);
  assert.equal(merged.data.status, 'archived');
  const moved = await fetch(`${BASE}/experts/${a}`, { redirect: 'manual' });
  assert.equal(moved.status, 308);
  assert.match(moved.headers.get('location'), new RegExp(`/experts/${b}`));
});

pageTest('the inbox: a request moves from new to forwarded with a note', async (page, t) => {
  const sent = await fetch(BASE + '/v1/contact-requests', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ expert_id: 'awa-thiam', name: 'Inbox Tester', email: 'inbox@example.org', message: 'Please put us in touch.' }),
  });
  assert.equal(sent.status, 202);
  const { id } = await sent.json();
  const probe = await adminFetch('/v1/admin/contact-requests/' + id, { method: 'PATCH', body: {} });
  const serverHasPatch = probe.status !== 404 && probe.status !== 405;
  if (!serverHasPatch) {
    // Until the server has the endpoint, answer as its contract says, so the page is still tested.
    t.diagnostic('PATCH /v1/admin/contact-requests/{id} is missing on the server: answered by a stub');
    await page.route(`**/v1/admin/contact-requests/${id}`, async (route) => {
      if (route.request().method() !== 'PATCH') return route.fallback();
      const change = route.request().postDataJSON();
      const list = await adminFetch('/v1/admin/contact-requests');
      const request = list.data.requests.find((entry) => entry.id === id);
      const history = [{ at: new Date().toISOString(), actor: 'admin', status: change.status, note: change.note }];
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...request, ...change, history }) });
    });
  }
  await signIn(page);
  await page.click('a[href="#inbox"]');
  const card = page.locator(`#inbox-list li[data-id="${id}"]`);
  await card.waitFor();
  await checkA11y(page, 'inbox');
  await card.locator('select').selectOption('forwarded');
  await card.locator('textarea').fill('Forwarded by e-mail');
  await card.locator('button[type=submit]').click();
  await page.waitForSelector(`#inbox-list li[data-id="${id}"][data-status="forwarded"]`);
  assert.match(await page.locator(`#inbox-list li[data-id="${id}"] [role=status]`).first().textContent(), /Saved/);
  await page.selectOption('#inbox-filter', 'new');
  assert.equal(await page.locator(`#inbox-list li[data-id="${id}"]`).count(), 0, 'the filter hides it from "New"');
  if (serverHasPatch) {
    const list = await adminFetch('/v1/admin/contact-requests');
    const stored = list.data.requests.find((request) => request.id === id);
    assert.equal(stored.status, 'forwarded');
    assert.equal(stored.note, 'Forwarded by e-mail');
  }
});

pageTest('erasing a person needs their name typed', async (page) => {
  const created = await adminFetch('/v1/admin/experts', {
    method: 'POST', body: { id: `erase-me-${RUN}`, name: 'Erase Me Please', city: 'Rabat', country: 'MA', languages: ['ar', 'fr'] },
  });
  assert.equal(created.status, 201);
  await signIn(page, 'ar');
  await page.goto(`${BASE}/admin?lang=ar#experts/erase-me-${RUN}`);
  await page.waitForFunction(() => document.getElementById('f-name')?.value === 'Erase Me Please');
  await page.click('#editor-links button.danger');
  await page.waitForSelector('#erase-dialog[open]');
  await checkA11y(page, 'erase dialog (Arabic)');
  await page.fill('#erase-confirm', 'Someone Else');
  await page.click('#erase-submit');
  await page.waitForSelector('#erase-confirm[aria-invalid="true"]');
  assert.equal((await adminFetch(`/v1/admin/experts/erase-me-${RUN}`)).status, 200, 'nothing erased yet');
  await page.fill('#erase-confirm', 'Erase Me Please');
  await page.click('#erase-submit');
  await page.waitForSelector('#view-records:not([hidden])');
  await page.waitForSelector('#desk-notice:has-text("Erase Me Please")');
  assert.equal((await adminFetch(`/v1/admin/experts/erase-me-${RUN}`)).status, 404);
});
