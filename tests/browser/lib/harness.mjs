// Shared test machinery: one Chromium per test file, pages that fail on script errors and
// Content-Security-Policy violations, axe-core checks, screenshots of failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BASE = process.env.CITYPEERS_URL || 'http://127.0.0.1:8090';
export const PORTAL = process.env.PORTAL_URL || 'http://127.0.0.1:8091';
export const TOKEN = process.env.CITYPEERS_ADMIN_TOKEN || 'secret';
export const ARTIFACTS = process.env.ARTIFACTS_DIR || new URL('../../../target/browser-artifacts/', import.meta.url).pathname;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

let browserPromise = null;
export function browser() {
  browserPromise ||= chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return browserPromise;
}
export async function closeBrowser() {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = null;
}

/** A fresh page (own context) that records console errors, page errors and CSP violations. */
export async function newPage({ locale = 'en-US', viewport = { width: 1200, height: 900 } } = {}) {
  const context = await (await browser()).newContext({ locale, viewport });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push('page error: ' + error.message));
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text)) page.problems.push('CSP: ' + text);
    else if (message.type() === 'error' && !/Failed to load resource/.test(text)) page.problems.push('console: ' + text);
  });
  return page;
}

/** Fails when the page logged a script error or a CSP violation. */
export function assertClean(page) {
  assert.deepEqual(page.problems, [], 'the page reported problems');
}

/** Runs axe-core on the page (shadow DOM included); fails on serious or critical violations. */
export async function checkA11y(page, label) {
  await page.evaluate(AXE_SOURCE); // through the DevTools protocol: the page's CSP does not apply
  const result = await page.evaluate(async () => window.axe.run(document, {
    resultTypes: ['violations'], iframes: false,
  }));
  const bad = result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  const report = bad.map((violation) => `${violation.impact} ${violation.id}: ${violation.help}\n` +
    violation.nodes.slice(0, 5).map((node) => '    ' + node.target.join(' ') + ' — ' + node.failureSummary.replace(/\n/g, ' ')).join('\n')).join('\n');
  assert.equal(bad.length, 0, `axe found serious/critical problems (${label}):\n${report}`);
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);

/** A test with its own page; a failure leaves a screenshot in target/browser-artifacts/. */
export function pageTest(name, options, body) {
  if (typeof options === 'function') { body = options; options = {}; }
  test(name, async (t) => {
    const page = await newPage(options);
    try {
      await body(page, t);
      assertClean(page);
    } catch (error) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = ARTIFACTS + slug(name) + '.png';
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      error.message += `\n(screenshot: ${file}; url: ${page.url()})`;
      throw error;
    } finally {
      await page.context().close();
    }
  });
}

/** The admin API from the test itself (a colleague working meanwhile). */
export async function adminFetch(path, init = {}) {
  const headers = { Authorization: 'Bearer ' + TOKEN, Accept: 'application/json', ...(init.headers || {}) };
  if (init.body && typeof init.body !== 'string') {
    headers['Content-Type'] ||= 'application/json';
    init = { ...init, body: JSON.stringify(init.body) };
  }
  const response = await fetch(BASE + path, { ...init, headers });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: response.status, etag: response.headers.get('etag'), data, headers: response.headers };
}

export { assert };
