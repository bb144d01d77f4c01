#include "chat_page.hpp"

namespace chat {

// The page talks WebSocket to /ws. When that cannot open (or with
// ?transport=poll) it falls back to long-polling: GET /poll?since=ID waits
// for the messages after ID, and POST /send posts one. Both transports carry
// the same batches, {"messages":[{"id","name","text"}...],"last":ID}.
// ?name=NAME presets the name.
std::string_view chat_page() {
  static constexpr std::string_view page = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>httpkit chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: flex;
         flex-direction: column; height: 100vh; background: #f4f5f7; }
  header { padding: 10px 16px; background: #24292f; color: #fff; display: flex;
           align-items: baseline; gap: 16px; }
  header h1 { font-size: 18px; margin: 0; }
  #status { font-size: 13px; color: #b6bec8; }
  #messages { flex: 1; overflow-y: auto; list-style: none; margin: 0; padding: 12px 16px; }
  #messages li { margin: 4px 0; padding: 6px 10px; background: #fff; border-radius: 6px;
                 box-shadow: 0 1px 1px rgba(0,0,0,.08); word-wrap: break-word; }
  #messages b { color: #0969da; }
  form { display: flex; gap: 8px; padding: 10px 16px; background: #fff;
         border-top: 1px solid #d0d7de; }
  #name { width: 9em; }
  #text { flex: 1; }
  input, button { font: inherit; padding: 6px 8px; }
</style>
</head>
<body>
<header><h1>httpkit chat</h1><span id="status">connecting&hellip;</span></header>
<ul id="messages"></ul>
<form id="composer">
  <input id="name" placeholder="your name" maxlength="40" required>
  <input id="text" placeholder="say something" maxlength="2000" autocomplete="off" required>
  <button id="send" type="submit">Send</button>
</form>
<script>
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);
  const list = document.getElementById('messages');
  const status = document.getElementById('status');
  const nameInput = document.getElementById('name');
  const textInput = document.getElementById('text');
  nameInput.value = params.get('name') || 'guest' + Math.floor(Math.random() * 1000);

  const seen = new Set();  // message ids shown; a message may arrive twice
  let cursor = 0;          // the highest id seen: the next poll asks for what follows
  let sendForm = null;     // the current transport's way to post a message

  function show(batch) {
    for (const m of batch.messages) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      cursor = Math.max(cursor, m.id);
      const item = document.createElement('li');
      item.dataset.id = m.id;
      const who = document.createElement('b');
      who.textContent = m.name;
      item.append(who, document.createTextNode(': ' + m.text));
      // Keep id order: messages posted on other event loops may overtake.
      let after = null;
      for (const other of list.children) {
        if (Number(other.dataset.id) > m.id) { after = other; break; }
      }
      list.insertBefore(item, after);
    }
    list.scrollTop = list.scrollHeight;
  }

  function connected(transport, send) {
    sendForm = send;
    document.body.dataset.transport = transport;
    document.body.dataset.ready = 'true';
    status.textContent = 'connected via ' + (transport === 'websocket' ? 'WebSocket' : 'long-polling');
  }

  function useWebSocket() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(scheme + location.host + '/ws');
    let opened = false;
    ws.onopen = function () {
      opened = true;
      connected('websocket', function (form) { ws.send(form.toString()); });
    };
    ws.onmessage = function (event) { show(JSON.parse(event.data)); };
    ws.onclose = function () {
      if (!opened) { useLongPolling(); return; }  // no WebSocket here: fall back
      sendForm = null;
      delete document.body.dataset.ready;
      status.textContent = 'disconnected, reconnecting\u2026';
      setTimeout(useWebSocket, 1000);
    };
  }

  function useLongPolling() {
    connected('poll', function (form) { return fetch('/send', { method: 'POST', body: form }); });
    (async function pollForever() {
      for (;;) {
        try {
          const response = await fetch('/poll?since=' + cursor, { cache: 'no-store' });
          if (!response.ok) throw new Error('HTTP ' + response.status);
          show(await response.json());
          status.textContent = 'connected via long-polling';
        } catch (err) {
          status.textContent = 'poll failed (' + err.message + '), retrying\u2026';
          await new Promise(function (resolve) { setTimeout(resolve, 2000); });
        }
      }
    })();
  }

  document.getElementById('composer').addEventListener('submit', function (event) {
    event.preventDefault();
    const text = textInput.value.trim();
    if (!text || !sendForm) return;
    sendForm(new URLSearchParams({ name: nameInput.value.trim() || 'guest', text: text }));
    textInput.value = '';
    textInput.focus();
  });

  if (params.get('transport') === 'poll' || !('WebSocket' in window)) {
    useLongPolling();
  } else {
    useWebSocket();
  }
})();
</script>
</body>
</html>
)PAGE";
  return page;
}

}  // namespace chat
