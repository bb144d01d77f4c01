'use strict';
// node `ws` (npm) against httpkit-server's /ws echo, with and without
// permessage-deflate: echo of text and binary, large messages, fragments,
// ping, and the close handshake.
//   HTTPKIT_BIN_DIR=build/bin node tests/peers/ws/ws_node_test.js

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { PeerServer } = require('./peer_server');

const MIB = 1 << 20;
let server;

before(async () => { server = await new PeerServer('httpkit-server').start(); });
after(async () => {
  assert.equal(await server.stop(), 0, 'httpkit-server exits 0 on SIGTERM');
});

// Opens a client; resolves with it and the 101's Sec-WebSocket-Extensions.
function connect(perMessageDeflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { perMessageDeflate });
    let extensions = null;
    ws.once('upgrade', (res) => { extensions = res.headers['sec-websocket-extensions'] ?? null; });
    ws.once('open', () => resolve({ ws, extensions }));
    ws.once('error', reject);
  });
}

// The next message; rejects when the connection closes first, or in time.
function nextMessage(ws, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const settle = (fn, value) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      fn(value);
    };
    const onMessage = (data, isBinary) => settle(resolve, { data, isBinary });
    const onClose = (code) => settle(reject, new Error(`the connection closed (${code}) instead`));
    const timer = setTimeout(() => settle(reject, new Error('no message in time')), timeoutMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function echo(ws, payload, options = {}) {
  const reply = nextMessage(ws);
  ws.send(payload, options);
  return reply;
}

const modes = {
  'without compression': false,
  'with permessage-deflate': true,
  'with permessage-deflate, no context takeover, 10-bit server window': {
    clientNoContextTakeover: true,
    serverNoContextTakeover: true,
    serverMaxWindowBits: 10,
  },
};

for (const [mode, perMessageDeflate] of Object.entries(modes)) {
  describe(mode, () => {
    let ws;
    let extensions;
    before(async () => { ({ ws, extensions } = await connect(perMessageDeflate)); });
    after(() => ws.terminate());

    test('the negotiated extension header', () => {
      if (!perMessageDeflate) {
        assert.equal(extensions, null);
        assert.equal(ws.extensions, '');
        return;
      }
      assert.match(extensions, /^permessage-deflate/);
      assert.equal(ws.extensions, 'permessage-deflate');
      if (perMessageDeflate.serverNoContextTakeover) {
        assert.match(extensions, /server_no_context_takeover/);
        assert.match(extensions, /client_no_context_takeover/);
        assert.match(extensions, /server_max_window_bits=10/);
      }
    });

    test('text echo stays text', async () => {
      for (const text of ['hello from node', '', 'ünïcødé ✓ 𝄞']) {
        const { data, isBinary } = await echo(ws, text);
        assert.equal(isBinary, false);
        assert.equal(data.toString('utf8'), text);
      }
    });

    test('binary echo stays binary', async () => {
      const blob = crypto.randomBytes(65536);
      const { data, isBinary } = await echo(ws, blob);
      assert.equal(isBinary, true);
      assert.ok(blob.equals(data));
    });

    test('1 MiB messages: compressible text and random binary', async () => {
      const text = 'http-kit '.repeat(MIB / 8).slice(0, MIB);
      let reply = await echo(ws, text);
      assert.equal(reply.data.toString('utf8'), text);
      const blob = crypto.randomBytes(MIB);
      reply = await echo(ws, blob);
      assert.equal(reply.isBinary, true);
      assert.ok(blob.equals(reply.data));
    });

    test('a fragmented message is reassembled', async () => {
      const reply = nextMessage(ws);
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted', { fin: true });
      assert.equal((await reply).data.toString(), 'fragmented');
    });

    test('ping gets a pong with the same payload', async () => {
      const pong = new Promise((resolve) => ws.once('pong', resolve));
      ws.ping(Buffer.from('node ping'));
      assert.equal((await pong).toString(), 'node ping');
    });

    test('100 messages in flight come back in order', async () => {
      const got = [];
      const all = new Promise((resolve) => {
        const onMessage = (data) => {
          got.push(data.toString());
          if (got.length === 100) { ws.off('message', onMessage); resolve(); }
        };
        ws.on('message', onMessage);
      });
      for (let i = 0; i < 100; i++) ws.send(`message ${i}`);
      await all;
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `message ${i}`));
    });
  });
}

// max_ws is 4 MiB, so a 3 MiB message is legal and the echo server must
// return it (the 1 MiB per-connection send queue must not refuse it).
for (const [mode, perMessageDeflate] of [['without compression', false], ['with deflate', true]]) {
  test(`3 MiB random binary and 2 MiB text, under max_ws, are echoed (${mode})`, async () => {
    const { ws } = await connect(perMessageDeflate);
    try {
      const blob = crypto.randomBytes(3 * MIB);
      const reply = await echo(ws, blob);
      assert.equal(reply.isBinary, true);
      assert.ok(blob.equals(reply.data));
      const text = 'http-kit '.repeat((2 * MIB) / 8).slice(0, 2 * MIB);
      assert.equal((await echo(ws, text)).data.toString('utf8'), text);
    } finally {
      ws.terminate();
    }
  });
}

test('close 1000: the server echoes it', async () => {
  const { ws } = await connect(true);
  const done = closed(ws);
  ws.close(1000, 'done');
  assert.equal((await done).code, 1000);
});

test('close 4001 with a reason: the server echoes the code', async () => {
  const { ws } = await connect(false);
  const done = closed(ws);
  ws.close(4001, 'custom reason');
  assert.equal((await done).code, 4001);
});

test('the server is still there after the clients left', async () => {
  const { ws } = await connect(true);
  assert.equal((await echo(ws, 'last')).data.toString(), 'last');
  const done = closed(ws);
  ws.close();  // no code: the server echoes an empty close, which reads as 1005
  assert.equal((await done).code, 1005);
  assert.ok(server.alive());
});
