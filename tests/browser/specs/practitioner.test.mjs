// The practitioner page: match (French, Arabic, language switch), errors, search with a typo,
// facets, suggestions and Back/Forward, keyboard reach.
import { after } from 'node:test';
import { pageTest, checkA11y, closeBrowser, assert, BASE } from '../lib/harness.mjs';

after(closeBrowser);

const ARABIC = /[\u0600-\u06FF]/;

async function match(page, text) {
  await page.fill('#m-challenge', text);
  await page.focus('#m-challenge');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#match-list > li');
}

pageTest('a match in French: French reasons, only the score parts that apply, state in the URL', { locale: 'fr-FR' }, async (page) => {
  await page.goto(BASE + '/?lang=fr');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.locator('h1').count(), 1, 'one <h1>');
  await checkA11y(page, 'match form, French');
  await match(page, 'Nos quartiers bas sont inondés à chaque saison des pluies, nous voulons une alerte précoce');
  const reasons = await page.locator('#match-list .reasons li').allTextContents();
  assert.ok(reasons.some((r) => /Parle|Travaille|Personne de contact/.test(r)), 'reasons in French: ' + reasons.slice(0, 3));
  const parts = await page.locator('#match-list li:first-child .breakdown .k').allTextContents();
  assert.ok(!parts.includes('Région'), 'no region bar without a region: ' + parts);
  assert.ok(parts.includes('Votre description'));
  assert.match(page.url(), /challenge=Nos/);
  const profile = await page.locator('#match-list li:first-child h3 a').getAttribute('href');
  assert.match(profile, /^\/experts\/[a-z0-9-]+\?lang=fr$/);
  await checkA11y(page, 'match results, French');
});

pageTest('a match in Arabic: right to left, Arabic reasons; switching language asks again', { locale: 'ar' }, async (page) => {
  await page.goto(BASE + '/?lang=ar');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  await match(page, 'تغمر المياه أحياءنا المنخفضة في كل موسم أمطار');
  const reasons = await page.locator('#match-list .reasons li').allTextContents();
  assert.ok(reasons.length && reasons.every((r) => ARABIC.test(r)), 'Arabic reasons: ' + reasons.slice(0, 3));
  assert.match(await page.textContent('#match-status'), ARABIC);
  await checkA11y(page, 'match results, Arabic');
  // The language picker keeps the question and asks the server again in the new language.
  await Promise.all([page.waitForURL(/lang=en/), page.click('a.lang-link[data-lang="en"]')]);
  await page.waitForSelector('#match-list > li');
  assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
  const english = await page.locator('#match-list .reasons li').allTextContents();
  assert.ok(english.some((r) => /Works on|Speaks|Contact for/.test(r)), 'reasons in English now: ' + english.slice(0, 3));
  assert.equal(await page.inputValue('#m-challenge'), 'تغمر المياه أحياءنا المنخفضة في كل موسم أمطار');
});

pageTest('the submit button is one Tab away from the challenge; an error clears old results', async (page) => {
  await page.goto(BASE + '/?lang=en');
  await page.focus('#m-challenge');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'm-submit');
  await match(page, 'participatory budgeting in small towns');
  await page.route('**/v1/match', (route) => route.fulfill({
    status: 500, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'internal', message: 'boom', fields: [] } }),
  }));
  await page.fill('#m-challenge', 'informal settlement upgrading');
  await page.click('#m-submit');
  await page.waitForSelector('#match-error:not(:empty)');
  assert.equal(await page.locator('#match-list > li').count(), 0, 'no stale results after an error');
  await checkA11y(page, 'match error');
});

pageTest('search with a typo, facets, suggestions that stay closed, Back and Forward', async (page) => {
  await page.goto(BASE + '/?lang=en&view=search');
  await page.waitForSelector('#search-list > li');
  await page.fill('#s-q', 'drainige');
  await page.waitForTimeout(50);
  await page.press('#s-q', 'Enter');
  await page.waitForFunction(() => /[?&]q=drainige/.test(location.search));
  await page.waitForSelector('#search-list > li');
  await page.waitForTimeout(600); // a late suggestion answer must not reopen the list
  assert.equal(await page.isHidden('#s-suggest'), true, 'suggestions stay closed after Enter');
  await page.waitForSelector('#search-dym:not([hidden])');
  assert.match(await page.textContent('#search-dym'), /drainage/);
  const before = await page.textContent('#search-status');
  await checkA11y(page, 'search results');
  const facet = page.locator('#facet-groups input[data-facet="topic"][data-value="flood-risk"]');
  await facet.check();
  await page.waitForFunction(() => /topic=flood-risk/.test(location.search));
  await page.waitForFunction((old) => document.getElementById('search-status').textContent !== old, before);
  await page.goBack();
  await page.waitForFunction(() => !/topic=/.test(location.search));
  await page.waitForFunction(() => !document.querySelector('#facet-groups input[data-value="flood-risk"]').checked);
  assert.equal(await page.inputValue('#s-q'), 'drainige');
  await page.goForward();
  await page.waitForFunction(() => document.querySelector('#facet-groups input[data-value="flood-risk"]')?.checked);
  await page.goBack();
  await page.goBack();
  await page.waitForFunction(() => !/q=/.test(location.search));
  assert.equal(await page.inputValue('#s-q'), '');
});
