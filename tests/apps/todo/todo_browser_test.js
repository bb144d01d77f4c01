'use strict';
// Headless Chromium (Debian's) driven by playwright-core loads the todo
// example: a todo added through the form shows on that page and, through
// the SSE feed, on a second page; toggled and deleted on one page, it
// changes on both. Neither page logs a console error or throws.
//   HTTPKIT_BIN_DIR=build/bin node tests/apps/todo/todo_browser_test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { PeerServer } = require('../../peers/ws/peer_server');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let server;
let browser;
const problems = [];  // console errors and uncaught exceptions, from every page

before(async () => {
  server = await new PeerServer('todo', ['--threads', '2']).start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  assert.equal(await server.stop(), 0, 'todo exits 0 on SIGTERM');
});

// A page in a fresh context (no shared cache), loaded and listening.
async function openTodo(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${name} console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${name} page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    // The EventSource is cut when the page closes; that is not a failure.
    if (!req.url().endsWith('/api/events')) problems.push(`${name} request failed: ${req.url()}`);
  });
  await page.goto(server.url + '/');
  await page.waitForSelector('body[data-ready]', { timeout: 10000 });
  return page;
}

const titles = (page) => page.$$eval('#todos li .title', (spans) => spans.map((s) => s.textContent));
const row = (page, title) => page.locator('#todos li', { hasText: title });

async function waitForTitles(page, wanted) {
  await page.waitForFunction(
    (want) => JSON.stringify([...document.querySelectorAll('#todos li .title')]
      .map((s) => s.textContent)) === JSON.stringify(want),
    wanted, { timeout: 10000 });
}

test('add, see it live on a second page, toggle, delete; no console errors', async () => {
  const alice = await openTodo('alice');
  const bob = await openTodo('bob');
  assert.deepEqual(await titles(alice), []);
  assert.equal(await alice.textContent('#status'), 'live');

  // Added through the form on alice's page: it shows there and, by the
  // SSE feed alone (bob does nothing), on bob's.
  await alice.fill('#title', 'water the plants <b>now</b>');
  await alice.click('#add');
  await waitForTitles(alice, ['water the plants <b>now</b>']);
  await waitForTitles(bob, ['water the plants <b>now</b>']);
  assert.equal(await alice.inputValue('#title'), '', 'the form is cleared');
  assert.equal(await alice.locator('#todos b').count(), 0, 'a title is text, not HTML');
  assert.equal(await bob.textContent('#count'), '1 item left');

  // A second one, from bob's page.
  await bob.fill('#title', 'call mum');
  await bob.press('#title', 'Enter');
  await waitForTitles(alice, ['water the plants <b>now</b>', 'call mum']);

  // Toggled on bob's page: done on both.
  await row(bob, 'water the plants').locator('input.toggle').click();
  for (const page of [alice, bob]) {
    await row(page, 'water the plants').and(page.locator('.done')).waitFor({ timeout: 10000 });
    assert.equal(await row(page, 'water the plants').locator('input.toggle').isChecked(), true);
    await page.waitForFunction(() => document.getElementById('count').textContent === '1 item left');
  }
  // And back.
  await row(alice, 'water the plants').locator('input.toggle').click();
  await bob.waitForFunction(() => !document.querySelector('#todos li.done'));

  // Deleted on alice's page: gone from both.
  await row(alice, 'water the plants').locator('button.delete').click();
  await waitForTitles(alice, ['call mum']);
  await waitForTitles(bob, ['call mum']);

  // The state is the server's: a third page, loaded now, shows the same.
  const carol = await openTodo('carol');
  assert.deepEqual(await titles(carol), ['call mum']);

  // An empty title is refused by the form itself (required); a too-long
  // one cannot be typed (maxlength), so no error shows.
  assert.equal(await alice.isHidden('#error'), true);

  for (const page of [alice, bob, carol]) await page.context().close();
  assert.deepEqual(problems, [], 'no console errors or page errors');
});

test('a title the server refuses shows its JSON error under the form', async () => {
  const page = await openTodo('dave');
  // Past the page's maxlength: the server's 400 is what the user sees.
  await page.evaluate(() => document.getElementById('title').removeAttribute('maxlength'));
  await page.fill('#title', 'x'.repeat(201));
  // A 400 is logged by Chromium as a failed resource load: expected here.
  const before = problems.length;
  await page.click('#add');
  await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
  assert.match(await page.textContent('#error'), /too long/);
  const extra = problems.splice(before);
  assert.ok(extra.every((p) => /status of 400/.test(p)), extra.join('\n'));
  await page.context().close();
});
