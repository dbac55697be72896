// One webhook's page: its header (enable/disable, send a test event), the health of its last
// 24 hours, the signing secret (revealed on demand, rotated with a click), its delivery log
// (integration-log.js), "Recover failed since…", and its settings (edit, delete).
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;

  var page = document.querySelector('[data-webhook-page]');
  var id = page.getAttribute('data-webhook-id');
  var base = '/webhooks/' + encodeURIComponent(id);
  var form = page.querySelector('[data-webhook-form]');
  var q = function (sel) {
    return page.querySelector(sel);
  };
  var hook = null;
  var revealed = false;

  function show(h) {
    hook = h;
    q('[data-test="webhook-title"]').textContent = h.url;
    document.title = h.url + ' · Integration · Palaver';
    var pill = q('[data-enabled-pill]');
    pill.className = 'pill ' + (h.enabled ? 'pill-enabled' : 'pill-disabled');
    pill.textContent = h.enabled ? 'Enabled' : 'Disabled';
    q('[data-description]').textContent = h.description || '';
    q('[data-toggle-enabled]').textContent = h.enabled ? 'Disable' : 'Enable';
    var test = q('[data-send-test]');
    test.disabled = !h.enabled;
    test.title = h.enabled ? 'Sends the seed\u2019s sample messageAgent event to this URL' : 'Enable the webhook to send a test event';
    showSecret();
    var note = q('[data-previous-note]');
    note.hidden = !h.previousSecretExpiresAt;
    if (h.previousSecretExpiresAt) {
      note.textContent = 'The previous secret also signs every request until ' + I.fullTime(h.previousSecretExpiresAt) + '.';
    }
    showDisabled(h);
    if (log) log.setEnabled(h.enabled);
  }

  // Why it is disabled and since when; while Palaver probes it, when the next probe is.
  function showDisabled(h) {
    var note = q('[data-disabled-note]');
    note.hidden = h.enabled;
    if (h.enabled) return;
    var reason = h.disabledReason || 'Disabled';
    q('[data-disabled-reason]').textContent = 'Disabled: ' + reason.charAt(0).toLowerCase() + reason.slice(1) + '.';
    var at = q('[data-disabled-when]');
    at.textContent = h.disabledAt ? 'Since ' + I.fullTime(h.disabledAt) + '.' : '';
    var probe = q('[data-disabled-probe]');
    probe.hidden = !h.nextProbeAt;
    if (h.nextProbeAt) {
      probe.textContent = 'Palaver tries the oldest held delivery now and then (next: ' + I.fullTime(h.nextProbeAt) + '); when your server takes it, the webhook is enabled again by itself.';
    }
  }

  function showSecret() {
    var value = q('[data-secret-value]');
    value.textContent = revealed ? hook.secret : 'whsec_' + '\u2022'.repeat(24);
    value.setAttribute('aria-label', revealed ? 'Signing secret' : 'Signing secret, hidden');
    value.classList.toggle('secret-hidden', !revealed);
    var reveal = q('[data-reveal]');
    reveal.textContent = revealed ? 'Hide' : 'Reveal';
    reveal.setAttribute('aria-expanded', String(revealed));
    q('[data-copy-secret]').hidden = !revealed;
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function health() {
    return C.api('GET', base + '/health').then(function (h) {
      var text = q('[data-health-text]');
      var dot = q('[data-health-dot]');
      text.textContent = '';
      var level = 'quiet';
      var parts = [];
      if (!h.deliveries && !h.failedAttempts) {
        parts.push(el('span', { text: 'No deliveries in the last 24 hours.' }));
      } else {
        level = h.failed || h.failedAttempts ? 'warn' : 'ok';
        parts.push(el('strong', { text: (h.capped ? 'Over ' : '') + plural(h.deliveries, 'delivery', 'deliveries') }));
        parts.push(el('span', { text: ' in the last 24 hours: ' + h.delivered + ' delivered, ' + h.failed + ' failed' + (h.pending ? ', ' + h.pending + ' pending' : '') + '; ' + plural(h.failedAttempts, 'failed attempt', 'failed attempts') + '.' }));
      }
      var err = h.lastError;
      if (err) {
        var recent = !h.lastSuccessAt || new Date(err.at) > new Date(h.lastSuccessAt);
        if (recent && h.deliveries) level = 'bad';
        var href = '/admin/integration/webhooks/' + encodeURIComponent(id) + '/deliveries/' + encodeURIComponent(err.deliveryId);
        parts.push(el('span', { class: 'health-error' }, [
          'Last error ' + C.ago(err.at) + ': ',
          el('a', { href: href, text: err.error || 'HTTP ' + err.statusCode, 'data-test': 'health-last-error' }),
          recent ? '' : ' (delivered fine since)',
        ]));
      }
      parts.forEach(function (p) {
        text.appendChild(p);
      });
      dot.className = 'health-dot health-' + level;
      q('[data-health]').setAttribute('data-level', level);
    }, function () {});
  }

  function sendTest(button) {
    button.disabled = true;
    C.api('POST', base + '/test')
      .then(function () {
        C.toast('Test event queued: it appears in the log below.');
        log.refresh();
      })
      .catch(function (err) {
        C.toast(I.plain(err.detail), 'error');
      })
      .then(function () {
        button.disabled = !hook.enabled;
      });
  }

  function patch(body) {
    return C.api('PATCH', base, body).then(function (h) {
      show(h);
      I.fillForm(form, h);
      health();
      return h;
    });
  }

  function rotate(button) {
    I.confirm({
      title: 'Rotate the signing secret?',
      text: 'Palaver makes a new secret at once. The current one keeps signing too for 24 hours, so that your server keeps accepting webhooks while you give it the new secret.',
      ok: 'Rotate secret',
    }).then(function (yes) {
      if (!yes) return;
      button.disabled = true;
      C.api('POST', base + '/rotate-secret')
        .then(function () {
          revealed = true;
          return C.api('GET', base).then(show);
        })
        .then(function () {
          C.toast('New secret made. The old one keeps signing for 24 hours.');
        })
        .catch(function (err) {
          C.toast(I.plain(err.detail), 'error');
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  function remove() {
    I.confirm({
      title: 'Delete this webhook?',
      text: 'Palaver stops sending events to ' + hook.url + ' and forgets its delivery log. This cannot be undone.',
      ok: 'Delete webhook',
      danger: true,
    }).then(function (yes) {
      if (!yes) return;
      C.api('DELETE', base).then(
        function () {
          window.location.href = '/admin/integration?deleted=1';
        },
        function (err) {
          C.toast(I.plain(err.detail), 'error');
        }
      );
    });
  }

  function missing(err) {
    page.textContent = '';
    page.appendChild(el('div', { class: 'card empty', role: 'alert' }, [
      el('strong', { text: err.status === 404 ? 'This webhook does not exist' : 'The webhook could not be loaded' }),
      el('p', { text: err.status === 404 ? 'It may have been deleted.' : err.detail }),
      el('a', { class: 'button button-secondary', href: '/admin/integration', text: 'Back to Integration' }),
    ]));
  }

  q('[data-send-test]').addEventListener('click', function (e) {
    sendTest(e.currentTarget);
  });
  function toggle(e) {
    var button = e.currentTarget;
    button.disabled = true;
    patch({ enabled: !hook.enabled })
      .then(function (h) {
        C.toast(h.enabled ? 'Webhook enabled.' : 'Webhook disabled: no events are sent to it.');
      })
      .catch(function (err) {
        C.toast(I.plain(err.detail), 'error');
      })
      .then(function () {
        button.disabled = false;
      });
  }
  q('[data-toggle-enabled]').addEventListener('click', toggle);
  q('[data-enable-now]').addEventListener('click', toggle);
  q('[data-reveal]').addEventListener('click', function () {
    revealed = !revealed;
    showSecret();
  });
  q('[data-copy-secret]').addEventListener('click', function () {
    I.copy(hook.secret, 'Signing secret');
  });
  q('[data-rotate]').addEventListener('click', function (e) {
    rotate(e.currentTarget);
  });
  q('[data-delete]').addEventListener('click', remove);
  I.onWebhookSubmit(form, function (body) {
    // Saving other settings leaves a disabled webhook's reason (and its probes) alone.
    if (body.enabled === hook.enabled) delete body.enabled;
    return patch(body).then(function () {
      C.toast('Changes saved.');
    });
  });

  var log = null;
  C.api('GET', base).then(function (h) {
    I.fillForm(form, h);
    log = window.IntegrationLog(q('[data-log]'), id, health);
    show(h);
    health();
    setInterval(function () {
      if (document.visibilityState === 'visible') health();
    }, 30000);
    I.recoverForm(q('[data-recover-form]'), id, new Date(Date.now() - 24 * 3600 * 1000), function (n) {
      if (n) log.refresh();
    });
    if (location.hash === '#created') {
      q('[data-created-note]').hidden = false;
      history.replaceState(null, '', location.pathname);
    }
  }, missing);
})();
