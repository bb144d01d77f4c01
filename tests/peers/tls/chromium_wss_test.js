'use strict';
// Headless Chromium (Debian's), driven by playwright-core, against
// httpkit-server over TLS: it loads https://localhost:PORT/ with the test's
// certificate trusted in that profile (--ignore-certificate-errors-spki-list
// with the leaf's SPKI hash: Chromium then treats the certificate as valid,
// so the page is a secure context), checks the page's text, fetches from
// the page, and runs a wss:// chat on /ws: two pages, each with a WebSocket,
// each message echoed, text and binary, then a clean close. The console
// must stay free of errors.
// Run by chromium_wss_test.sh, which starts the server and sets
// HTTPKIT_TLS_PORT, HTTPKIT_SPKI, HTTPKIT_EXPECTED_BODY (the body of GET /).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const port = process.env.HTTPKIT_TLS_PORT;
const spki = process.env.HTTPKIT_SPKI;
const expectedBody = process.env.HTTPKIT_EXPECTED_BODY;
const origin = `https://localhost:${port}`;
let browser;
const problems = [];  // console errors and page errors, from every page

before(async () => {
  assert.ok(port && spki && expectedBody, 'run by chromium_wss_test.sh');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           `--ignore-certificate-errors-spki-list=${spki}`],
  });
});

after(async () => {
  if (browser) await browser.close();
});

async function openPage(name) {
  const context = await browser.newContext();  // ignoreHTTPSErrors stays false
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${name} console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${name} page error: ${err.message}`));
  const response = await page.goto(`${origin}/`, { waitUntil: 'load', timeout: 15000 });
  return { page, response };
}

test('the page loads over https with the certificate trusted', async () => {
  const { page, response } = await openPage('load');
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'text/plain');
  assert.equal(await response.text(), expectedBody);
  const security = await response.securityDetails();
  assert.ok(security, 'the response has TLS details');
  assert.equal(security.protocol, 'TLS 1.3');
  assert.equal(security.subjectName, 'localhost');
  assert.equal(security.issuer, 'httpkit test CA');
  const info = await page.evaluate(() => ({
    protocol: location.protocol, secure: window.isSecureContext, text: document.body.innerText,
  }));
  assert.deepEqual({ protocol: info.protocol, secure: info.secure }, { protocol: 'https:', secure: true });
  assert.equal(info.text.trim(), expectedBody.trim());
  const fetched = await page.evaluate(async () => {
    const r = await fetch('/?length=42');
    return { status: r.status, text: await r.text() };
  });
  assert.equal(fetched.status, 200);
  assert.equal(fetched.text.length, 42);
  assert.equal(fetched.text, expectedBody.slice(0, 42));
  await page.context().close();
});

// In the page: a WebSocket to wss://host/ws that collects what it receives.
function connectChat(page, who) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${location.host}/ws`);
    ws.binaryType = 'arraybuffer';
    window.chat = { ws, name, received: [], closed: null };
    ws.onmessage = (e) => window.chat.received.push(
      typeof e.data === 'string' ? e.data : `binary:${new Uint8Array(e.data).join(',')}`);
    ws.onclose = (e) => { window.chat.closed = { code: e.code, clean: e.wasClean }; };
    ws.onopen = () => resolve({ protocol: ws.protocol, extensions: ws.extensions, url: ws.url });
    ws.onerror = () => reject(new Error('WebSocket error'));
    setTimeout(() => reject(new Error('WebSocket open timeout')), 10000);
  }), who);
}

const say = (page, text) => page.evaluate((t) => window.chat.ws.send(`${window.chat.name}: ${t}`), text);
const received = (page) => page.evaluate(() => window.chat.received);
async function waitFor(page, count) {
  await page.waitForFunction((n) => window.chat.received.length >= n, count, { timeout: 10000 });
}

test('a wss:// chat round-trip between two pages', async () => {
  const alice = (await openPage('alice')).page;
  const bob = (await openPage('bob')).page;
  const a = await connectChat(alice, 'alice');
  const b = await connectChat(bob, 'bob');
  assert.equal(a.url, `wss://localhost:${port}/ws`);
  assert.match(a.extensions, /permessage-deflate/, 'Chromium offered deflate and it was taken');
  assert.match(b.extensions, /permessage-deflate/);

  await say(alice, 'hello from alice');
  await say(bob, 'hi alice, bob here');
  await say(alice, 'é ✓ 𝄞 '.repeat(2000));  // 30+ KB of UTF-8 across TLS records
  await alice.evaluate(() => window.chat.ws.send(new Uint8Array([0, 1, 2, 255]).buffer));
  await waitFor(alice, 3);
  await waitFor(bob, 1);
  assert.deepEqual(await received(alice),
    ['alice: hello from alice', `alice: ${'é ✓ 𝄞 '.repeat(2000)}`, 'binary:0,1,2,255']);
  assert.deepEqual(await received(bob), ['bob: hi alice, bob here']);

  // Many messages in a burst, in order.
  await bob.evaluate(() => { for (let i = 0; i < 200; i++) window.chat.ws.send(`m${i}`); });
  await waitFor(bob, 201);
  const got = (await received(bob)).slice(1);
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => `m${i}`));

  for (const page of [alice, bob]) {
    await page.evaluate(() => window.chat.ws.close(1000, 'bye'));
    await page.waitForFunction(() => window.chat.closed !== null, null, { timeout: 10000 });
    assert.deepEqual(await page.evaluate(() => window.chat.closed), { code: 1000, clean: true });
    await page.context().close();
  }
});

test('the console stayed free of errors', () => {
  assert.deepEqual(problems, []);
});
