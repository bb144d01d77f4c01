// The todo page: plain JavaScript, no framework.
//
// The page draws from one Map (id -> todo). It is filled by GET /api/todos
// and then kept current by the server-sent events of /api/events, which
// carry every change, this page's own and other browsers' alike. So the
// buttons only send requests: what they change shows when the event comes
// back, and every open page shows the same list.
//
// Each event's id is the store's version after that change, and the list
// comes with the version it is at (Todo-Version), so events that arrive
// while the list loads are held, then applied only if they are newer.
(function () {
  'use strict';

  const todos = new Map();
  let version = 0;       // the last change the Map includes
  let pending = null;    // events held while the list loads (else null)
  const list = document.getElementById('todos');
  const form = document.getElementById('new-todo');
  const titleInput = document.getElementById('title');
  const status = document.getElementById('status');
  const errorLine = document.getElementById('error');
  const count = document.getElementById('count');

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  // Redraws the whole list: a todo list is short, and this keeps the
  // page a plain function of the Map.
  function render() {
    const items = [...todos.values()].sort((a, b) => a.id - b.id).map(function (todo) {
      const item = document.createElement('li');
      item.dataset.id = todo.id;
      item.classList.toggle('done', todo.done);
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.className = 'toggle';
      box.checked = todo.done;
      box.setAttribute('aria-label', 'done');
      box.addEventListener('change', function () {
        box.checked = todo.done;  // until the server's event says otherwise
        send('PATCH', '/api/todos/' + todo.id, { done: !todo.done });
      });
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = todo.title;  // text, never HTML
      const remove = document.createElement('button');
      remove.className = 'delete';
      remove.title = 'delete';
      remove.textContent = '\u00d7';
      remove.addEventListener('click', function () { send('DELETE', '/api/todos/' + todo.id); });
      item.append(box, title, remove);
      return item;
    });
    list.replaceChildren(...items);
    const left = [...todos.values()].filter((t) => !t.done).length;
    count.textContent = left + (left === 1 ? ' item left' : ' items left');
  }

  // One API call; a refusal shows the server's {"error": ...} under the form.
  async function send(method, url, body) {
    showError('');
    try {
      const response = await fetch(url, {
        method: method,
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        showError(answer.error || method + ' failed: HTTP ' + response.status);
      }
      return response.ok;
    } catch (err) {
      showError(method + ' failed: ' + err.message);
      return false;
    }
  }

  // One change from the feed: {type, id (the version), todo}.
  function apply(change) {
    if (change.id <= version) return;  // the list had it already
    version = change.id;
    if (change.type === 'deleted') todos.delete(change.todo.id);
    else todos.set(change.todo.id, change.todo);
  }

  async function loadAll() {
    pending = [];
    try {
      const response = await fetch('/api/todos', { cache: 'no-store' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const all = await response.json();
      todos.clear();
      for (const todo of all) todos.set(todo.id, todo);
      version = Number(response.headers.get('Todo-Version')) || 0;
      pending.forEach(apply);
    } finally {
      pending = null;
      render();
    }
  }

  function listen() {
    const events = new EventSource('/api/events');
    const receive = function (event) {
      const change = { type: event.type, id: Number(event.lastEventId), todo: JSON.parse(event.data) };
      if (pending) {
        pending.push(change);
      } else {
        apply(change);
        render();
      }
    };
    for (const type of ['created', 'updated', 'deleted']) events.addEventListener(type, receive);
    // On every (re)connection, load the whole list again: changes made
    // while the feed was down are then not missed. (A restarted server
    // starts its versions again from 0; the full load resets ours too.)
    events.addEventListener('open', function () {
      loadAll().then(function () {
        status.textContent = 'live';
        status.className = 'live';
        document.body.dataset.ready = 'true';
      }, function (err) {
        showError('could not load the list: ' + err.message);
      });
    });
    events.addEventListener('error', function () {
      // EventSource reconnects by itself; just say so.
      status.textContent = 'reconnecting\u2026';
      status.className = '';
      delete document.body.dataset.ready;
    });
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    const title = titleInput.value.trim();
    if (!title) return;
    if (await send('POST', '/api/todos', { title: title })) titleInput.value = '';
    titleInput.focus();
  });

  listen();
})();
