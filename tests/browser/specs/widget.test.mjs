// The widget on a page of another origin, and the iframe page.
import { after } from 'node:test';
import { pageTest, checkA11y, closeBrowser, assert, BASE, PORTAL } from '../lib/harness.mjs';

after(closeBrowser);

const cards = (page, id) => page.locator(`#${id} >> css=article`);

pageTest('the widget on another origin: profile links, French and Arabic, portal links', async (page) => {
  await page.goto(PORTAL + '/');
  for (const id of ['w-fr', 'w-ar', 'w-custom']) await cards(page, id).first().waitFor();
  const fr = await page.locator('#w-fr >> css=a.p').first().getAttribute('href');
  assert.match(fr, new RegExp('^' + BASE.replace(/[.]/g, '\\.') + '/experts/[a-z0-9-]+\\?lang=fr$'));
  assert.match(await page.locator('#w-fr >> css=ul.r li').first().textContent(), /Votre demande|Travaille|Parle|Personne/);
  const ar = page.locator('#w-ar >> css=div.w');
  assert.equal(await ar.getAttribute('dir'), 'rtl');
  assert.match(await page.locator('#w-ar >> css=ul.r li').first().textContent(), /[\u0600-\u06FF]/);
  assert.match(await page.locator('#w-ar >> css=a.p').first().textContent(), /[\u0600-\u06FF]/);
  const custom = await page.locator('#w-custom >> css=a.p').first().getAttribute('href');
  assert.match(custom, /^https:\/\/portal\.example\/people\/[a-z0-9-]+$/);
  await checkA11y(page, 'portal with widgets');
  await Promise.all([page.waitForURL(/\/experts\//), page.locator('#w-fr >> css=a.p').first().click()]);
  assert.equal(new URL(page.url()).origin, BASE);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
});

pageTest('the iframe page in Arabic, under its own strict policy', async (page) => {
  await page.goto(BASE + '/embed?lang=ar&mode=search&q=flood&limit=2');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  await page.locator('#widget >> css=article').first().waitFor();
  assert.equal(await page.locator('#widget >> css=div.w').getAttribute('dir'), 'rtl');
  const link = await page.locator('#widget >> css=a.p').first().getAttribute('href');
  assert.match(link, new RegExp('/experts/[a-z0-9-]+\\?lang=ar$'));
  await checkA11y(page, 'embed ar');
});
