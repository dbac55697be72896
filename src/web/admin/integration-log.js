// A webhook's delivery log, as `window.IntegrationLog(root, webhookId, onChange, opts)`: a status
// filter, the deliveries newest first with "Load older" (the API's nextCursor), and a refresh
// that keeps the first page current while the page is open (sooner while some are pending).
// `opts` (the Slack log's): `api` (the list's path), `link(d)`, `label(lastAttempt)`,
// `empty` (words by status), `failed(err, body)` (true when it showed the error itself).
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;
  var PAGE = 25;

  window.IntegrationLog = function (root, webhookId, onChange, opts) {
    opts = opts || {};
    var body = root.querySelector('[data-log-body]');
    var more = root.querySelector('[data-load-more]');
    var filter = root.querySelector('[data-filter]');
    var base = opts.api || '/webhooks/' + encodeURIComponent(webhookId) + '/deliveries';
    var state = { status: '', items: [], cursor: null, loaded: false, enabled: true };
    var timer = null;

    function path(cursor) {
      var q = '?limit=' + PAGE + (state.status ? '&status=' + state.status : '');
      return base + q + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    }

    function link(d) {
      if (opts.link) return opts.link(d);
      return '/admin/integration/webhooks/' + encodeURIComponent(webhookId) + '/deliveries/' + encodeURIComponent(d.id);
    }

    function row(d) {
      var last = d.lastAttempt;
      var channel = d.channelName
        ? (d.conversationId ? el('a', { class: 'mono', href: '/admin/conversations#' + d.conversationId, title: 'Open the conversation', text: d.channelName }) : el('span', { class: 'mono', text: d.channelName }))
        : el('span', { class: 'tag', text: d.conversationId ? '—' : 'Test event' });
      return el('tr', { 'data-test': 'delivery-row', 'data-delivery-id': d.id, 'data-status': d.status }, [
        el('td', { 'data-label': 'Event' }, [el('a', { href: link(d), class: 'event-link', text: d.event, 'data-test': 'delivery-link' })]),
        el('td', { 'data-label': 'Channel' }, [channel]),
        el('td', { 'data-label': 'Status' }, [I.statusPill(d.status)]),
        el('td', { 'data-label': 'Attempts', class: 'num', text: String(d.attempts) }),
        el('td', { 'data-label': 'Next retry', class: 'nowrap', text: I.nextRetry(d), 'data-empty': I.nextRetry(d) === '—' }),
        el('td', { 'data-label': 'Last status' }, [opts.label ? opts.label(last) : I.codeLabel(last)]),
        el('td', { 'data-label': 'Duration', class: 'num nowrap', text: last ? I.duration(last.durationMs) : '—', 'data-empty': !last }),
        el('td', { 'data-label': 'Time', class: 'nowrap', title: I.fullTime(d.createdAt), text: C.when(d.createdAt) }),
      ]);
    }

    function empty() {
      var words = {
        '': ['No deliveries yet', state.enabled
          ? 'Send a test event, or start a conversation on your site: every event sent to this webhook appears here.'
          : 'This webhook is disabled: enable it to receive events.'],
        pending: ['Nothing pending', 'Every delivery has been sent or has given up.'],
        delivered: ['No deliveries delivered yet', 'Deliveries your server accepted (a 2xx answer) appear here.'],
        failed: ['No failed deliveries', 'Deliveries that gave up after every retry appear here; "Recover failed since…" queues them again.'],
      }[state.status];
      if (opts.empty && opts.empty[state.status]) words = opts.empty[state.status];
      return el('div', { class: 'empty', 'data-test': 'deliveries-empty' }, [el('strong', { text: words[0] }), el('p', { text: words[1] })]);
    }

    function render() {
      body.textContent = '';
      more.hidden = !state.cursor;
      if (!state.items.length) return body.appendChild(empty());
      var head = el('tr', {}, ['Event', 'Channel', 'Status', 'Attempts', 'Next retry', 'Last status', 'Duration', 'Time'].map(function (t) {
        return el('th', { scope: 'col', text: t });
      }));
      body.appendChild(
        el('div', { class: 'table-wrap flat stack-on-phone' }, [
          el('table', { class: 'table log-table' }, [el('thead', {}, [head]), el('tbody', {}, state.items.map(row))]),
        ])
      );
    }

    function failed(err) {
      more.hidden = true;
      body.textContent = '';
      if (opts.failed && opts.failed(err, body)) return;
      body.appendChild(el('p', { class: 'alert alert-error', role: 'alert', text: 'The deliveries could not be loaded: ' + err.detail }));
    }

    // The first page again (a filter change or a reload).
    function reset() {
      var asked = state.status;
      return C.api('GET', path(null)).then(function (page) {
        if (asked !== state.status) return;
        state.items = page.data;
        state.cursor = page.nextCursor;
        state.loaded = true;
        render();
      }, failed);
    }

    // The first page merged into what is shown: newer ones on top, known ones updated.
    function refresh() {
      // A filtered first page is simply read again: deliveries leave it when their status moves.
      if (!state.loaded || (state.status && state.items.length <= PAGE)) return reset();
      var asked = state.status;
      return C.api('GET', path(null)).then(function (page) {
        if (asked !== state.status) return;
        var byId = {};
        state.items.forEach(function (d, i) {
          byId[d.id] = i;
        });
        var fresh = [];
        var changed = false;
        page.data.forEach(function (d) {
          if (byId[d.id] == null) {
            fresh.push(d);
            changed = true;
          } else {
            var old = state.items[byId[d.id]];
            if (old.status !== d.status || old.attempts !== d.attempts) changed = true;
            state.items[byId[d.id]] = d;
          }
        });
        state.items = fresh.concat(state.items);
        render();
        if (changed && onChange) onChange();
      }, function () {});
    }

    function schedule() {
      clearTimeout(timer);
      var busy = state.items.some(function (d) {
        return d.status === 'pending';
      });
      timer = setTimeout(function () {
        var go = document.visibilityState === 'visible' ? refresh() : Promise.resolve();
        go.then(schedule, schedule);
      }, busy ? 2000 : 10000);
    }

    more.addEventListener('click', function () {
      more.disabled = true;
      var asked = state.status;
      C.api('GET', path(state.cursor))
        .then(function (page) {
          if (asked !== state.status) return;
          state.items = state.items.concat(page.data);
          state.cursor = page.nextCursor;
          render();
        })
        .catch(function (err) {
          C.toast('Older deliveries could not be loaded: ' + err.detail, 'error');
        })
        .then(function () {
          more.disabled = false;
        });
    });

    filter.addEventListener('click', function (e) {
      var button = e.target.closest('button[data-status]');
      if (!button) return;
      state.status = button.getAttribute('data-status');
      filter.querySelectorAll('button').forEach(function (b) {
        b.setAttribute('aria-pressed', String(b === button));
      });
      state.loaded = false;
      reset().then(schedule);
    });

    reset().then(schedule);

    return {
      // After a test event or a redelivery: show it now and follow it.
      refresh: function () {
        return refresh().then(schedule);
      },
      setEnabled: function (enabled) {
        state.enabled = enabled;
        if (!state.items.length && state.loaded) render();
      },
    };
  };
})();
