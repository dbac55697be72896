// The Integration page: the team's webhooks, each opening its own page, and the form that adds
// one. Everything goes through the JSON API (Console.api).
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;

  var list = document.querySelector('[data-webhooks]');
  var card = document.querySelector('[data-add-card]');
  var form = card.querySelector('form');
  var open = document.querySelector('[data-open-add]');
  var hooks = [];

  function href(hook) {
    return '/admin/integration/webhooks/' + encodeURIComponent(hook.id);
  }

  // Opens (or closes) the add form; `focus` false leaves the focus where it is (on load, below
  // the Slack card).
  function showAdd(show, focus) {
    card.hidden = !show;
    open.hidden = show;
    open.setAttribute('aria-expanded', String(show));
    if (show && focus !== false) form.elements.url.focus();
  }

  function eventsCell(hook) {
    if (hook.events.length === I.EVENTS.length) return el('span', { class: 'muted', text: 'All six events' });
    return el('span', { class: 'event-list' }, hook.events.map(function (name) {
      return el('code', { text: name });
    }));
  }

  function toggle(hook, button) {
    button.disabled = true;
    C.api('PATCH', '/webhooks/' + encodeURIComponent(hook.id), { enabled: !hook.enabled })
      .then(function (changed) {
        hooks = hooks.map(function (h) {
          return h.id === changed.id ? changed : h;
        });
        C.toast(changed.enabled ? 'Webhook enabled: events are sent to it again.' : 'Webhook disabled: no events are sent to it.');
        render();
      })
      .catch(function (err) {
        button.disabled = false;
        C.toast(I.plain(err.detail), 'error');
      });
  }

  function row(hook) {
    var button = el('button', {
      type: 'button',
      class: 'button button-secondary button-small',
      text: hook.enabled ? 'Disable' : 'Enable',
      'aria-label': (hook.enabled ? 'Disable ' : 'Enable ') + hook.url,
      'data-test': 'webhook-toggle',
    });
    button.addEventListener('click', function () {
      toggle(hook, button);
    });
    return el('tr', { 'data-test': 'webhook-row', 'data-webhook-id': hook.id }, [
      el('td', { class: 'cell-url', 'data-label': 'URL' }, [
        el('a', { href: href(hook), class: 'url-link', text: hook.url, 'data-test': 'webhook-link' }),
        hook.description ? el('div', { class: 'muted small', text: hook.description }) : null,
      ]),
      el('td', { 'data-label': 'Events' }, [eventsCell(hook)]),
      el('td', { 'data-label': 'Status' }, [
        el('span', { class: 'pill ' + (hook.enabled ? 'pill-enabled' : 'pill-disabled'), text: hook.enabled ? 'Enabled' : 'Disabled' }),
        hook.enabled || !hook.disabledReason ? null : el('div', {
          class: 'muted small disabled-reason',
          'data-test': 'webhook-disabled-reason',
          title: hook.disabledAt ? 'Since ' + I.fullTime(hook.disabledAt) : '',
          text: hook.disabledReason + (hook.disabledAt ? ' · ' + C.when(hook.disabledAt) : ''),
        }),
      ]),
      el('td', { 'data-label': 'Batch size', class: 'num', title: hook.batchSize === 1 ? 'Each event alone' : 'Up to ' + hook.batchSize + ' events per request', text: String(hook.batchSize) }),
      el('td', { 'data-label': 'Created', class: 'nowrap', title: I.fullTime(hook.createdAt), text: C.when(hook.createdAt) }),
      el('td', { class: 'cell-actions' }, [button, el('a', { href: href(hook), class: 'button button-secondary button-small', text: 'Open', 'aria-label': 'Open ' + hook.url })]),
    ]);
  }

  function render() {
    list.removeAttribute('aria-busy');
    list.textContent = '';
    if (!hooks.length) {
      var add = el('button', { type: 'button', class: 'button', text: 'Add your first webhook' });
      add.addEventListener('click', function () {
        showAdd(true);
      });
      list.appendChild(
        el('div', { class: 'card empty', 'data-test': 'webhooks-empty' }, [
          el('strong', { text: 'No webhooks yet' }),
          el('p', { text: 'Add the URL of an entry point on your server: Palaver will POST it each conversation event (start, open, end, email and every message), in the Talkus format.' }),
          card.hidden ? add : null,
        ])
      );
      return;
    }
    var head = el('tr', {}, ['URL', 'Events', 'Status', 'Batch', 'Created', ''].map(function (t) {
      return el('th', { scope: 'col', text: t });
    }));
    list.appendChild(
      el('div', { class: 'table-wrap stack-on-phone' }, [
        el('table', { class: 'table webhooks-table' }, [el('thead', {}, [head]), el('tbody', {}, hooks.map(row))]),
      ])
    );
  }

  // Every page of the list (a team has few webhooks).
  function load(cursor, pages) {
    var path = '/webhooks?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    return C.api('GET', path).then(function (page) {
      hooks = hooks.concat(page.data);
      if (page.nextCursor && pages < 20) return load(page.nextCursor, pages + 1);
    });
  }

  function failed(err) {
    list.removeAttribute('aria-busy');
    list.textContent = '';
    var retry = el('button', { type: 'button', class: 'button button-secondary', text: 'Try again' });
    retry.addEventListener('click', function () {
      list.textContent = '';
      start();
    });
    list.appendChild(el('div', { class: 'card empty', role: 'alert' }, [el('strong', { text: 'The webhooks could not be loaded' }), el('p', { text: err.detail }), retry]));
  }

  function start() {
    hooks = [];
    load(null, 1).then(function () {
      if (!hooks.length) showAdd(true, false);
      render();
    }, failed);
  }

  open.addEventListener('click', function () {
    showAdd(true);
  });
  card.querySelector('[data-cancel-add]').addEventListener('click', function () {
    C.clearErrors(form);
    form.reset();
    showAdd(false);
    render();
  });
  I.onWebhookSubmit(form, function (body) {
    return C.api('POST', '/webhooks', body).then(function (hook) {
      window.location.href = href(hook) + '#created';
    });
  });

  if (/[?&]deleted=1/.test(location.search)) {
    C.toast('Webhook deleted.');
    history.replaceState(null, '', location.pathname);
  }
  start();
})();
