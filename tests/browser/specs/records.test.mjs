// Profile and case pages (server-rendered), the contact form, the friendly 404.
import { after } from 'node:test';
import { pageTest, checkA11y, closeBrowser, assert, BASE } from '../lib/harness.mjs';

after(closeBrowser);

const EXPERT = 'roland-hounkpatin';

for (const lang of ['en', 'fr', 'ar']) {
  pageTest(`the profile page in ${lang}: public fields only, cases, JSON twin`, { locale: lang }, async (page) => {
    const response = await page.goto(`${BASE}/experts/${EXPERT}?lang=${lang}`);
    assert.equal(response.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    assert.equal(await page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
    assert.equal(await page.textContent('h1'), 'Roland Hounkpatin');
    const html = await page.content();
    assert.ok(!/@example\.org|\+229/.test(html), 'no e-mail address or phone number on the page');
    assert.equal(await page.getAttribute('link[rel="alternate"][type="application/json"]', 'href'), `/v1/experts/${EXPERT}`);
    const caseLink = page.locator('a[href^="/cases/"]').first();
    assert.match(await caseLink.getAttribute('href'), new RegExp(`^/cases/[a-z0-9-]+\\?lang=${lang}$`));
    await checkA11y(page, 'profile ' + lang);
    await page.setViewportSize({ width: 375, height: 740 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, 'readable on a phone (no sideways scrolling): ' + overflow);
    await Promise.all([page.waitForURL(/\/cases\//), caseLink.click()]);
    assert.ok(await page.locator(`a[href="/experts/${EXPERT}?lang=${lang}"]`).count() >= 1, 'the case links back to its experts');
    await checkA11y(page, 'case ' + lang);
  });
}

pageTest('the contact form: errors in place, then the request is received', async (page) => {
  await page.goto(`${BASE}/experts/${EXPERT}?lang=en`);
  const button = page.locator('button[data-contact-id]');
  await button.click();
  await page.waitForSelector('#contact-dialog[open]');
  assert.match(await page.textContent('#contact-title'), /Roland Hounkpatin/);
  await page.click('#c-submit');
  await page.waitForSelector('#c-name[aria-invalid="true"]');
  assert.match(await page.textContent('#c-email-err'), /required/i);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'c-name');
  await checkA11y(page, 'contact form with errors');
  await page.fill('#c-name', 'Nguyen Thi Lan');
  await page.fill('#c-email', 'lan@example.org');
  await page.fill('#c-organisation', 'Da Nang People’s Committee');
  await page.fill('#c-message', 'We would like to learn about your drainage programme.');
  await page.click('#c-submit');
  await page.waitForSelector('#contact-done:not([hidden])');
  assert.match(await page.textContent('#contact-done'), /reference cr-/i);
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.contactId), EXPERT, 'focus returns to the button');
});

pageTest('unknown profiles, cases and pages get the friendly 404', { locale: 'ar' }, async (page) => {
  let response = await page.goto(`${BASE}/experts/no-such-person?lang=ar`);
  assert.equal(response.status(), 404);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.match(await page.textContent('h1'), /[\u0600-\u06FF]/);
  assert.ok(await page.locator('a[href="/?lang=ar"]').count() >= 1);
  await checkA11y(page, '404 expert ar');
  response = await page.goto(`${BASE}/cases/no-such-case?lang=fr`);
  assert.equal(response.status(), 404);
  assert.match(await page.textContent('h1'), /cas pratique/);
  // (Unknown paths outside /v1 still get the API's JSON 404 from the router; a missing static
  // file shows the page kind of the friendly 404.)
  response = await page.goto(`${BASE}/static/no-such-page.html?lang=de`);
  assert.equal(response.status(), 404);
  assert.match(await page.textContent('h1'), /Seite nicht gefunden/);
  await checkA11y(page, '404 page de');
});
