// One delivery's page: what it is (event, channel, status, retries), every attempt with the
// receiver's answer, the payload as sent (pretty-printed), "Redeliver", and "Recover failed
// since…" starting at this delivery's time. Followed while it is pending. A Slack delivery's
// page (`data-kind="slack"`, its API path in `data-api-base`) shows each attempt's Web API
// calls and Slack's error instead of a receiver's answer, and has no "Recover".
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;

  var page = document.querySelector('[data-delivery-page]');
  var webhookId = page.getAttribute('data-webhook-id');
  var deliveryId = page.getAttribute('data-delivery-id');
  var slack = page.getAttribute('data-kind') === 'slack';
  var base = '/webhooks/' + encodeURIComponent(webhookId);
  var path = (page.getAttribute('data-api-base') || base + '/deliveries') + '/' + encodeURIComponent(deliveryId);
  var q = function (sel) {
    return page.querySelector(sel);
  };
  var redeliver = q('[data-redeliver]');
  var current = null;
  var timer = null;
  var recoverBound = false;

  function fact(label, value, test) {
    return el('div', { class: 'fact' }, [
      el('dt', { text: label }),
      el('dd', { 'data-test': test || null }, [typeof value === 'string' ? document.createTextNode(value) : value]),
    ]);
  }

  function summary(d) {
    var channel = d.channelName ? (d.conversationId ? el('a', { class: 'mono', href: '/admin/conversations#' + d.conversationId, text: d.channelName }) : el('span', { class: 'mono', text: d.channelName })) : el('span', { class: 'muted', text: 'None (a test event)' });
    var facts = [
      fact('Status', I.statusPill(d.status)),
      fact('Event', el('code', { text: d.event })),
      fact('Channel', channel, 'delivery-channel'),
      fact('Attempts', String(d.attempts), 'delivery-attempts'),
      fact('Next retry', I.nextRetry(d)),
      fact('Created', I.fullTime(d.createdAt)),
      fact('Conversation', d.conversationId ? el('span', { class: 'mono', text: d.conversationId }) : el('span', { class: 'muted', text: '—' })),
      fact('Event id', el('span', { class: 'mono', text: d.eventId })),
    ];
    if (d.batchId) facts.push(fact('Sent in batch', el('span', { class: 'mono', text: d.batchId })));
    return el('section', { class: 'card', 'aria-label': 'Summary' }, [el('dl', { class: 'facts' }, facts)]);
  }

  function attempt(a) {
    var ok = !a.error;
    var what = slack ? 'Web API calls of attempt ' : 'Answer body of attempt ';
    var none = slack ? 'No Web API call was made.' : a.statusCode == null ? 'No answer came back.' : 'The answer had no body.';
    var answer = a.responseBody
      ? el('pre', { class: 'answer', text: a.responseBody, tabindex: '0', 'aria-label': what + a.n })
      : el('p', { class: 'muted small', text: none });
    var failing = slack ? I.slackError(a) : null;
    var label = slack ? I.slackLabel(a) : I.codeLabel(a);
    // Slack's error alone is the label already; its meaning follows.
    var detail = failing ? (failing.error === label.textContent ? '' : failing.error) : a.error;
    return el('li', { class: 'attempt ' + (ok ? 'attempt-ok' : 'attempt-bad'), 'data-test': 'attempt-row' }, [
      el('div', { class: 'attempt-head' }, [
        el('strong', { text: 'Attempt ' + a.n }),
        label,
        failing && failing.method ? el('code', { class: 'attempt-method', title: 'The Web API method that failed', text: failing.method, 'data-test': 'attempt-method' }) : null,
        el('span', { class: 'muted', text: I.duration(a.durationMs) }),
        el('span', { class: 'muted', title: I.fullTime(a.at), text: C.when(a.at) }),
      ]),
      detail ? el('p', { class: 'attempt-error', 'data-test': 'attempt-error', text: detail }) : null,
      failing && a.error ? el('p', { class: 'hint attempt-hint', 'data-test': 'attempt-hint', text: I.slackHint(label.textContent) }) : null,
      answer,
    ]);
  }

  function attempts(d) {
    var box = q('[data-attempts]');
    box.textContent = '';
    var log = (d.attemptLog || []).slice().reverse();
    if (!log.length) {
      box.appendChild(el('p', { class: 'muted', text: d.status === 'pending' ? 'Not tried yet: the first attempt is on its way.' : 'No attempt was made.' }));
      return;
    }
    box.appendChild(el('ol', { class: 'attempts', reversed: true }, log.map(attempt)));
  }

  function payload(d) {
    var pre = q('[data-payload]');
    if (d.payload !== undefined) {
      pre.textContent = JSON.stringify(d.payload, null, 2);
      pre.classList.remove('payload-missing');
    } else {
      pre.textContent = d.payloadError ? 'The body cannot be rebuilt: ' + d.payloadError : 'No payload.';
      pre.classList.add('payload-missing');
    }
  }

  function render(d) {
    current = d;
    var title = q('[data-event]');
    title.textContent = '';
    title.appendChild(el('code', { text: d.event }));
    title.appendChild(document.createTextNode(d.conversationId ? ' event' : ' test event'));
    var pill = q('[data-status-pill]');
    pill.hidden = false;
    pill.className = 'pill pill-' + d.status;
    pill.textContent = I.statusPill(d.status).textContent;
    // A pending delivery that waits for its next retry may be tried now; one being sent may not.
    var pending = d.status === 'pending';
    var waiting = pending && d.attempts > 0 && d.nextAttemptAt && new Date(d.nextAttemptAt).getTime() > Date.now() + 2000;
    redeliver.textContent = pending ? 'Retry now' : 'Redeliver';
    redeliver.disabled = pending && !waiting;
    redeliver.title = waiting ? 'Tries it now instead of at its next retry' : pending ? 'Palaver is sending it now' : 'Sends it again now';
    var note = q('[data-redeliver-note]');
    note.hidden = !pending;
    note.textContent = waiting
      ? 'The last attempt failed; Palaver retries it ' + C.when(d.nextAttemptAt) + ' on its schedule. ' + (slack ? 'Fixed the cause?' : 'Fixed your server?') + ' Retry it now.'
      : pending ? 'Palaver is sending this delivery; the page follows it.' : '';
    var body = q('[data-delivery-body]');
    body.textContent = '';
    body.appendChild(summary(d));
    q('[data-delivery-grid]').hidden = false;
    attempts(d);
    payload(d);
    if (!recoverBound && q('[data-recover-form]')) {
      recoverBound = true;
      I.recoverForm(q('[data-recover-form]'), webhookId, new Date(d.createdAt));
    }
  }

  // Reads it again, and again while it is pending.
  function follow(delay) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (document.visibilityState !== 'visible') return follow(delay);
      load().then(function (d) {
        if (d && d.status === 'pending') follow(Math.min(delay * 1.5, 10000));
      });
    }, delay);
  }

  function load() {
    return C.api('GET', path).then(
      function (d) {
        render(d);
        return d;
      },
      function (err) {
        if (current) return null;
        var body = q('[data-delivery-body]');
        body.textContent = '';
        var back = page.getAttribute('data-back') || '/admin/integration/webhooks/' + encodeURIComponent(webhookId);
        var gone = slack ? 'It may belong to another team, or the link is mistyped.' : 'It may belong to another webhook, or the webhook was deleted.';
        body.appendChild(el('div', { class: 'card empty', role: 'alert', 'data-test': 'not-found' }, [
          el('strong', { text: err.status === 404 ? 'This delivery does not exist' : 'The delivery could not be loaded' }),
          el('p', { text: err.status === 404 ? gone : err.detail }),
          el('a', { class: 'button button-secondary', href: back, text: page.getAttribute('data-back-label') || 'Back to the webhook' }),
        ]));
        return null;
      }
    );
  }

  redeliver.addEventListener('click', function () {
    redeliver.disabled = true;
    C.api('POST', path + '/redeliver')
      .then(function () {
        C.toast(current && current.status === 'pending' ? 'Retrying it now.' : 'Queued again: Palaver sends it now.');
        return load();
      })
      .then(function () {
        follow(800);
      })
      .catch(function (err) {
        redeliver.disabled = false;
        C.toast(I.plain(err.detail), 'error');
      });
  });
  q('[data-copy-payload]').addEventListener('click', function () {
    I.copy(q('[data-payload]').textContent, 'Payload');
  });

  load().then(function (d) {
    if (d && d.status === 'pending') follow(1000);
  });
})();
