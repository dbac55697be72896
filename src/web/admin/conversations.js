// The agent console's left side and its wiring: the conversations grouped waiting / open /
// ended (newest first) with unread counts, kept current by the team's live stream; who the
// admin acts as; opt-in notifications of new visitors. The chosen conversation is drawn by
// thread.js.
(function () {
  'use strict';
  var C = window.Console;
  var el = C.el;
  var GROUPS = [
    ['waiting', 'Waiting'],
    ['open', 'Open'],
    ['ended', 'Ended'],
  ];
  var root = document.querySelector('[data-console]');
  var byId = {};
  var unread = JSON.parse(sessionStorage.getItem('palaver:unread') || '{}');
  var selected = null;
  var lists = {};
  var counts = {};
  var acting = C.agentId || localStorage.getItem('palaver:acting-as') || '';
  var notify = localStorage.getItem('palaver:notify') === 'on';

  root.textContent = '';
  var live = el('span', { class: 'live', 'data-test': 'live', title: 'Live updates', text: 'Connecting…' });
  var bell = el('button', { type: 'button', class: 'button button-secondary button-small', 'data-test': 'notify', onclick: toggleNotify });
  var head = el('div', { class: 'inbox-head' }, [el('h1', { text: 'Conversations' }), live]);
  var tools = el('div', { class: 'inbox-tools' }, [bell]);
  if (!C.agentId) tools.insertBefore(actAs(), bell);
  var inbox = el('aside', { class: 'inbox', 'aria-label': 'Conversations' }, [head, tools]);
  GROUPS.forEach(function (g) {
    counts[g[0]] = el('span', { class: 'count', text: '0' });
    lists[g[0]] = el('ul', { class: 'inbox-list', 'data-test': 'list-' + g[0] });
    inbox.appendChild(el('section', { class: 'inbox-group' }, [el('h2', {}, [g[1] + ' ', counts[g[0]]]), lists[g[0]]]));
  });
  var threadRoot = el('section', { class: 'thread', 'aria-label': 'Conversation' });
  root.appendChild(inbox);
  root.appendChild(threadRoot);
  var thread = new window.Thread(threadRoot, function () {
    return acting;
  });
  drawBell();

  // Admins act as one of the team's agents, chosen here (remembered in this browser).
  function actAs() {
    var select = el('select', { 'aria-label': 'Act as agent', 'data-test': 'act-as' }, [el('option', { value: '', text: 'Act as…' })]);
    C.api('GET', '/agents?limit=100').then(function (a) {
      (a.data || []).forEach(function (agent) {
        select.appendChild(el('option', { value: agent.id, text: (agent.real_name || agent.name || agent.id) + ' (' + agent.id + ')' }));
      });
      if (!acting && a.data && a.data.length === 1) acting = a.data[0].id;
      select.value = acting;
      if (!a.data || !a.data.length) C.toast('Add an agent on the Agents page to answer visitors.', 'error');
    });
    select.addEventListener('change', function () {
      acting = select.value;
      localStorage.setItem('palaver:acting-as', acting);
    });
    return el('label', { class: 'act-as' }, [select]);
  }

  function load() {
    return Promise.all(
      GROUPS.map(function (g) {
        return C.api('GET', '/conversations?status=' + g[0] + '&limit=50').then(function (a) {
          return a.data || [];
        });
      })
    ).then(function (groups) {
      groups.forEach(function (rows) {
        rows.forEach(function (c) {
          upsert(c, false);
        });
      });
      GROUPS.forEach(function (g) {
        draw(g[0]);
      });
      var wanted = location.hash.slice(1);
      if (wanted && byId[wanted]) select(wanted);
      else if (wanted) {
        // A link to an older conversation (from the delivery log): read it, then show it.
        C.api('GET', '/conversations/' + encodeURIComponent(wanted)).then(function (c) {
          upsert(summary(c), false);
          select(c.id);
        }, function (err) {
          C.toast(err.detail, 'error');
        });
      }
    });
  }

  function upsert(c, fresh) {
    var known = byId[c.id] || {};
    for (var k in c) known[k] = c[k];
    var last = c.lastMessage;
    if (last) {
      known.preview = (last.from === 'agent' ? last.userName + ': ' : '') + last.text;
      if (!known.touched || last.createdAt > known.touched) known.touched = last.createdAt;
    }
    if (fresh) known.touched = new Date().toISOString();
    byId[c.id] = known;
    return known;
  }

  function draw(status) {
    var ul = lists[status];
    var rows = Object.keys(byId)
      .map(function (id) {
        return byId[id];
      })
      .filter(function (c) {
        return c.status === status;
      })
      .sort(function (a, b) {
        return (b.touched || b.startedAt) < (a.touched || a.startedAt) ? -1 : 1;
      });
    counts[status].textContent = String(rows.length);
    ul.textContent = '';
    if (!rows.length) ul.appendChild(el('li', { class: 'inbox-empty', text: status === 'waiting' ? 'Nobody is waiting.' : 'None.' }));
    rows.forEach(function (c) {
      var n = unread[c.id] || 0;
      ul.appendChild(
        el('li', {}, [
          el('a', { href: '#' + c.id, class: 'inbox-item' + (c.id === selected ? ' selected' : ''), 'data-test': 'conversation', 'data-id': c.id, 'aria-current': c.id === selected ? 'true' : false, onclick: function (e) { e.preventDefault(); select(c.id); } }, [
            el('span', { class: 'face', 'aria-hidden': 'true', text: window.Thread.initial(c.visitorName) }),
            el('span', { class: 'inbox-text' }, [el('strong', { text: c.visitorName }), el('span', { class: 'inbox-preview', text: c.preview || '#' + c.channelName })]),
            el('span', { class: 'inbox-side' }, [el('time', { datetime: c.touched || c.startedAt, text: C.ago(c.touched || c.startedAt) }), n ? el('span', { class: 'badge', 'data-test': 'unread', 'aria-label': n + ' unread', text: String(n) }) : null]),
          ]),
        ])
      );
    });
  }

  function redraw() {
    GROUPS.forEach(function (g) {
      draw(g[0]);
    });
  }

  function select(id) {
    selected = id;
    delete unread[id];
    saveUnread();
    history.replaceState(null, '', '#' + id);
    document.body.classList.add('show-thread');
    redraw();
    thread.open(id);
  }

  function saveUnread() {
    sessionStorage.setItem('palaver:unread', JSON.stringify(unread));
  }

  // The team's stream (GET /api/v1/events): `start` brings a conversation, `message` a message,
  // `open` and `end` a status (and the agent), `email` a visitor's new email.
  function onEvent(name, d) {
    var id = d.conversationId;
    if (!id) return;
    if (!byId[id] && name !== 'start') return ensure(id, name, d);
    var row = upsert(name === 'start' ? d.conversation : { id: id }, true);
    if (d.status) row.status = d.status;
    if (d.endedAt) row.endedAt = d.endedAt;
    var m = d.message;
    if (m) {
      row.preview = (m.from === 'agent' ? m.userName + ': ' : '') + m.text;
      if (id === selected) thread.message(m);
      else if (m.from !== 'agent') unread[id] = (unread[id] || 0) + 1;
      saveUnread();
    }
    if (id === selected) {
      thread.changed(id, d.status, d.agent);
      if (name === 'email') thread.email(d.email);
    }
    if (name === 'start') announce(row);
    redraw();
  }

  // A conversation the lists did not hold (older than the first page): read it, then apply.
  function ensure(id, name, d) {
    C.api('GET', '/conversations/' + encodeURIComponent(id)).then(function (c) {
      upsert(summary(c), false);
      onEvent(name, d);
    });
  }

  // The list's fields of a conversation read whole.
  function summary(c) {
    return { id: c.id, channelName: c.channelName, visitorId: c.visitorId, visitorName: c.visitorName, status: c.status, startedAt: c.startedAt, endedAt: c.endedAt };
  }

  function announce(c) {
    if (!notify) return;
    beep();
    if (window.Notification && Notification.permission === 'granted' && document.hidden) {
      var n = new Notification('New visitor: ' + c.visitorName, { body: c.preview || 'is waiting for an answer', tag: c.id });
      n.onclick = function () {
        window.focus();
        select(c.id);
      };
    }
  }

  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.12, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.35);
    } catch (e) {
      /* no sound here */
    }
  }

  function toggleNotify() {
    notify = !notify;
    localStorage.setItem('palaver:notify', notify ? 'on' : 'off');
    if (notify && window.Notification && Notification.permission === 'default') Notification.requestPermission();
    drawBell();
  }

  function drawBell() {
    bell.textContent = notify ? 'Alerts on' : 'Alerts off';
    bell.setAttribute('aria-pressed', notify ? 'true' : 'false');
    bell.title = 'A sound (and a desktop notification when this tab is hidden) for each new visitor';
  }

  if (/[?&]denied=admin-only/.test(location.search)) {
    C.toast('Only admins can open the Integration and Agents pages.', 'error');
    history.replaceState(null, '', location.pathname + location.hash);
  }

  load().then(function () {
    C.stream(onEvent, function (up) {
      live.textContent = up ? 'Live' : 'Reconnecting…';
      live.className = 'live' + (up ? ' on' : '');
      if (up) resync();
    });
  });

  // After a reconnection the lists are read again, in case the stream could not resume.
  var first = true;
  function resync() {
    if (first) {
      first = false;
      return;
    }
    load();
  }

  setInterval(function () {
    redraw();
  }, 60000);
})();
