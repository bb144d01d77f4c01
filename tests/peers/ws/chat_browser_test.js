'use strict';
// Headless Chromium (Debian's) driven by playwright-core loads the chat
// example: two WebSocket pages see each other's messages, then a
// long-polling page and a WebSocket page do, then a page whose WebSocket
// cannot open falls back to long-polling by itself.
//   HTTPKIT_BIN_DIR=build/bin node tests/peers/ws/chat_browser_test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { PeerServer } = require('./peer_server');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let server;
let browser;
let shotDir;

before(async () => {
  server = await new PeerServer('chat', ['--poll-timeout-ms', '5000']).start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  shotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'httpkit-chat-'));
});

after(async () => {
  if (browser) await browser.close();
  if (shotDir) fs.rmSync(shotDir, { recursive: true, force: true });
  assert.equal(await server.stop(), 0, 'chat exits 0 on SIGTERM');
});

// A page of its own (a fresh context: no shared cache or cookies), loaded
// and connected; `init` runs in the page before its scripts.
async function openChat(query, init) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`page error (${query}): ${err.message}`));
  if (init) await page.addInitScript(init);
  await page.goto(`${server.url}/?${query}`);
  await page.waitForSelector('body[data-ready]', { timeout: 10000 });
  return page;
}

const transportOf = (page) => page.evaluate(() => document.body.dataset.transport);

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

// Waits until every text shows in the page's message list.
async function waitForMessages(page, texts) {
  await page.waitForFunction(
    (wanted) => {
      const shown = [...document.querySelectorAll('#messages li')].map((li) => li.textContent);
      return wanted.every((t) => shown.some((s) => s.includes(t)));
    },
    texts,
    { timeout: 15000 },
  );
}

const shownMessages = (page) =>
  page.$$eval('#messages li', (items) => items.map((li) => li.textContent));

test('two WebSocket pages see each other\'s messages', async () => {
  const alice = await openChat('name=alice');
  const bob = await openChat('name=bob');
  assert.equal(await transportOf(alice), 'websocket');
  assert.equal(await transportOf(bob), 'websocket');

  await say(alice, 'hello from alice');
  await say(bob, 'hi alice, bob here');
  const both = ['alice: hello from alice', 'bob: hi alice, bob here'];
  await waitForMessages(alice, both);
  await waitForMessages(bob, both);
  // Each message shows once, in id order, on both pages.
  assert.deepEqual(await shownMessages(alice), both);
  assert.deepEqual(await shownMessages(bob), both);

  const shot = path.join(shotDir, 'chat.png');
  await alice.screenshot({ path: shot });
  const png = fs.readFileSync(shot);
  assert.ok(png.length > 1000, `screenshot of ${png.length} bytes`);
  assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])));
  await alice.context().close();
  await bob.context().close();
});

test('a long-polling page and a WebSocket page see each other\'s messages', async () => {
  const carol = await openChat('name=carol&transport=poll');
  const dave = await openChat('name=dave');
  assert.equal(await transportOf(carol), 'poll');
  assert.equal(await transportOf(dave), 'websocket');
  // Both got the earlier messages (the backlog) too.
  await waitForMessages(carol, ['alice: hello from alice', 'bob: hi alice, bob here']);
  await waitForMessages(dave, ['alice: hello from alice', 'bob: hi alice, bob here']);

  await say(carol, 'carol polls');
  await say(dave, 'dave streams');
  await say(carol, 'carol again');
  const all = ['carol: carol polls', 'dave: dave streams', 'carol: carol again'];
  await waitForMessages(carol, all);
  await waitForMessages(dave, all);
  assert.deepEqual(await shownMessages(carol), await shownMessages(dave));

  // Past a poll timeout (5 s here) the polling page still receives.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  await say(dave, 'after a poll timeout');
  await waitForMessages(carol, ['dave: after a poll timeout']);
  await carol.context().close();
  await dave.context().close();
});

test('a page whose WebSocket cannot open falls back to long-polling', async () => {
  // A WebSocket that closes before it opens, as behind a proxy that refuses it.
  const blockWebSocket = () => {
    window.WebSocket = function BlockedWebSocket() {
      const socket = { send() { throw new Error('not open'); } };
      setTimeout(() => socket.onclose && socket.onclose({ code: 1006 }), 50);
      return socket;
    };
  };
  const erin = await openChat('name=erin', blockWebSocket);
  const frank = await openChat('name=frank');
  assert.equal(await transportOf(erin), 'poll');
  assert.equal(await transportOf(frank), 'websocket');
  await say(erin, 'erin fell back');
  await say(frank, 'frank on ws');
  await waitForMessages(erin, ['erin: erin fell back', 'frank: frank on ws']);
  await waitForMessages(frank, ['erin: erin fell back', 'frank: frank on ws']);
  const status = await erin.textContent('#status');
  assert.match(status, /long-polling/);
  await erin.context().close();
  await frank.context().close();
});
