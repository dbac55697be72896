// What the Integration pages share, as `window.Integration`: the webhook form (read, fill,
// check), field errors in plain words, a confirmation dialog, copying, delivery formatting, and
// the "Recover failed since…" form.
(function () {
  'use strict';
  var C = window.Console;
  var el = C.el;

  var EVENTS = ['start', 'open', 'end', 'email', 'messageVisitor', 'messageAgent'];
  var LABELS = {
    url: 'The URL', events: 'The events', batchSize: 'The batch size', since: 'The time', description: 'The description',
    maxInFlight: 'The limit of requests at once', maxPerSecond: 'The limit of requests per second',
    botToken: 'The bot token', signingSecret: 'The signing secret', notifyChannel: 'The notification channel', name: 'The name',
  };

  // The API names the field first (`url` …); people read the field's name instead.
  function plain(detail) {
    var m = /^`([A-Za-z]+)`(:?) ?/.exec(detail || '');
    if (!m) return detail;
    var rest = detail.slice(m[0].length);
    if (m[2]) return rest.charAt(0).toUpperCase() + rest.slice(1);
    return (LABELS[m[1]] || m[1]) + ' ' + rest;
  }

  // Shows a refused call next to its field (Console.showError), worded for people.
  function fieldError(form, err) {
    C.showError(form, err);
    form.querySelectorAll('.field-error').forEach(function (n) {
      n.textContent = plain(n.textContent);
    });
    var alert = form.querySelector('[data-form-error]');
    if (alert && !alert.hidden) alert.textContent = plain(alert.textContent);
  }

  // A check made here, shown like the API's.
  function invalid(detail) {
    return { status: 422, detail: detail };
  }

  // The form's webhook, or throws a field error.
  function readForm(form) {
    var f = form.elements;
    var url = f.url.value.trim();
    if (!url) throw invalid('`url`: paste the address of an entry point on your server, e.g. https://example.com/palaver/webhook.');
    if (!/^https?:\/\/[^/?#\s]/i.test(url)) throw invalid('`url`: start it with https:// (or http://), e.g. https://' + url.replace(/^[a-z]+:\/*/i, '') + '.');
    var events = EVENTS.filter(function (name) {
      return form.querySelector('input[name="events"][value="' + name + '"]').checked;
    });
    if (!events.length) throw invalid('`events`: choose at least one event to send.');
    var raw = f.batchSize.value.trim();
    var batch = Number(raw);
    if (!raw || !Number.isInteger(batch) || batch < 1 || batch > 100) {
      throw invalid('`batchSize`: choose from 1 to 100.');
    }
    return {
      url: url,
      events: events,
      description: f.description.value.trim(),
      enabled: f.enabled.checked,
      batchSize: batch,
      maxInFlight: readLimit(f.maxInFlight, 'maxInFlight', 'requests at once'),
      maxPerSecond: readLimit(f.maxPerSecond, 'maxPerSecond', 'requests per second'),
    };
  }

  // An optional limit: empty is none (null), else a whole number from 1 to 1000.
  function readLimit(input, field, what) {
    var raw = input.value.trim();
    if (!raw) return null;
    var n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw invalid('`' + field + '`: choose from 1 to 1000 ' + what + ', or leave it empty for no limit.');
    }
    return n;
  }

  function fillForm(form, hook) {
    var f = form.elements;
    f.url.value = hook.url;
    f.description.value = hook.description || '';
    f.batchSize.value = hook.batchSize || 1;
    f.maxInFlight.value = hook.maxInFlight == null ? '' : hook.maxInFlight;
    f.maxPerSecond.value = hook.maxPerSecond == null ? '' : hook.maxPerSecond;
    f.enabled.checked = !!hook.enabled;
    form.querySelectorAll('input[name="events"]').forEach(function (box) {
      box.checked = hook.events.indexOf(box.value) >= 0;
    });
  }

  // Resolves true when the person confirms. `opts`: title, text, ok, danger.
  function confirm(opts) {
    return new Promise(function (resolve) {
      var ok = el('button', { type: 'button', class: 'button' + (opts.danger ? ' button-danger-solid' : ''), text: opts.ok, 'data-test': 'confirm-ok' });
      var cancel = el('button', { type: 'button', class: 'button button-secondary', text: 'Cancel', 'data-test': 'confirm-cancel' });
      var dialog = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'data-test': 'confirm-dialog' }, [
        el('h2', { id: 'confirm-title', text: opts.title }),
        el('p', { text: opts.text }),
        el('div', { class: 'form-actions' }, [cancel, ok]),
      ]);
      function done(answer) {
        dialog.close();
        dialog.remove();
        resolve(answer);
      }
      ok.addEventListener('click', function () {
        done(true);
      });
      cancel.addEventListener('click', function () {
        done(false);
      });
      dialog.addEventListener('cancel', function (e) {
        e.preventDefault();
        done(false);
      });
      document.body.appendChild(dialog);
      dialog.showModal();
      cancel.focus();
    });
  }

  function copy(text, what) {
    var done = function () {
      C.toast(what + ' copied.');
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        C.toast('Could not copy: select the text and copy it yourself.', 'error');
      });
      return;
    }
    var area = el('textarea', { class: 'offscreen', readonly: true });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand('copy');
    } catch (e) {
      copied = false;
    }
    area.remove();
    if (copied) done();
    else C.toast('Could not copy: select the text and copy it yourself.', 'error');
  }

  var STATUS_WORDS = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed' };

  function statusPill(status) {
    return el('span', { class: 'pill pill-' + status, text: STATUS_WORDS[status] || status });
  }

  function duration(ms) {
    if (ms == null) return '—';
    return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
  }

  // An attempt's answer as a short label: "200", "500", "No answer".
  function codeLabel(attempt) {
    if (!attempt) return el('span', { class: 'muted', text: '—' });
    var code = attempt.statusCode;
    var good = !attempt.error;
    return el('span', {
      class: 'code ' + (good ? 'code-ok' : 'code-bad'),
      title: attempt.error || 'The receiver answered ' + code,
      text: code == null ? 'No answer' : String(code),
    });
  }

  // A Slack attempt's `error` ("chat.postMessage: not_in_channel") as its method and the rest.
  function slackError(attempt) {
    var m = /^([a-z]+\.[A-Za-z.]+): ([\s\S]*)$/.exec((attempt && attempt.error) || '');
    return m ? { method: m[1], error: m[2] } : { method: '', error: (attempt && attempt.error) || '' };
  }

  // What Slack's commonest errors mean, for people.
  var SLACK_HINTS = {
    not_in_channel: 'The bot is not a member of the channel; Palaver joins it again on the next attempt.',
    channel_not_found: 'The channel does not exist, or the bot cannot see it.',
    is_archived: 'The channel is archived.',
    missing_scope: 'The app lacks a permission: update it from the manifest on the Integration page, then reinstall it.',
    msg_too_long: 'The message is longer than Slack accepts.',
    restricted_action: 'The workspace\'s settings do not let the bot do this.',
    not_allowed_token_type: 'The token is not a bot token (xoxb-…): replace it in the Slack settings.',
    'rate limited': 'Slack asked Palaver to slow down: the post waits, in order, and is not lost.',
    'no answer': 'Slack did not answer; Palaver tries again on its schedule.',
  };
  ['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive'].forEach(function (code) {
    SLACK_HINTS[code] = 'Slack refused the bot token: replace it in the Slack settings on the Integration page.';
  });
  ['fatal_error', 'internal_error', 'service_unavailable', 'request_timeout'].forEach(function (code) {
    SLACK_HINTS[code] = 'Slack had a problem on its side; Palaver tries again on its schedule.';
  });

  function slackHint(label) {
    return SLACK_HINTS[label] || '';
  }

  // A Slack attempt's answer as a short label: "ok", Slack's error code, "rate limited", …
  function slackLabel(attempt) {
    if (!attempt) return el('span', { class: 'muted', text: '—' });
    if (!attempt.error) return el('span', { class: 'code code-ok', title: 'Every Web API call succeeded', text: 'ok' });
    var e = slackError(attempt);
    var word = /^[a-z][a-z0-9_]*/.exec(e.error);
    var text;
    if (word && (word[0].indexOf('_') > 0 || word[0] === e.error.split(' (')[0])) text = word[0];
    else if (/rate limited|limits it/.test(e.error)) text = 'rate limited';
    else if (/^not sent/.test(e.error)) text = 'not sent';
    else text = attempt.statusCode == null ? 'no answer' : String(attempt.statusCode);
    return el('span', { class: 'code ' + (text === 'rate limited' ? 'code-wait' : 'code-bad'), title: attempt.error, text: text });
  }

  // When a pending delivery is tried next.
  function nextRetry(d) {
    if (d.status !== 'pending' || !d.nextAttemptAt) return '—';
    return new Date(d.nextAttemptAt).getTime() <= Date.now() + 1000 ? 'Now' : C.when(d.nextAttemptAt);
  }

  function fullTime(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
  }

  // `YYYY-MM-DDTHH:MM` in local time, for datetime-local inputs.
  function localInput(date) {
    var pad = function (n) {
      return String(n).padStart(2, '0');
    };
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) + 'T' + pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  // Binds a "Recover failed since…" form of webhook `id`; `since` is the input's first value.
  function recoverForm(form, id, since, after) {
    form.elements.since.value = localInput(since);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      C.clearErrors(form);
      var value = form.elements.since.value;
      var at = value ? new Date(value) : null;
      if (!at || isNaN(at)) return fieldError(form, invalid('`since`: choose a date and time.'));
      if (at.getTime() > Date.now()) return fieldError(form, invalid('`since`: choose a time in the past.'));
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      C.api('POST', '/webhooks/' + encodeURIComponent(id) + '/recover', { since: at.toISOString() })
        .then(function (r) {
          var n = r.queued;
          C.toast(n ? 'Queued ' + n + ' failed ' + (n === 1 ? 'delivery' : 'deliveries') + ' again.' : 'No delivery failed since then: nothing to recover.');
          if (after) after(n);
        })
        .catch(function (err) {
          fieldError(form, err);
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  // Sends the webhook form on submit: its fields read and checked (errors by their field),
  // the submit button disabled while `send(body)` (a promise) runs, a refusal shown by its field.
  function onWebhookSubmit(form, send) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      C.clearErrors(form);
      var body;
      try {
        body = readForm(form);
      } catch (err) {
        return fieldError(form, err);
      }
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      send(body).then(
        function () {
          button.disabled = false;
        },
        function (err) {
          button.disabled = false;
          fieldError(form, err);
        }
      );
    });
  }

  window.Integration = {
    onWebhookSubmit: onWebhookSubmit,
    EVENTS: EVENTS,
    plain: plain,
    fieldError: fieldError,
    invalid: invalid,
    readForm: readForm,
    fillForm: fillForm,
    confirm: confirm,
    copy: copy,
    statusPill: statusPill,
    duration: duration,
    codeLabel: codeLabel,
    slackError: slackError,
    slackLabel: slackLabel,
    slackHint: slackHint,
    nextRetry: nextRetry,
    fullTime: fullTime,
    recoverForm: recoverForm,
  };
})();
