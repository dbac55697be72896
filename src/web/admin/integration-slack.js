// The Slack card of the Integration page: GET /slack says whether the team is connected. Not
// connected: the steps and the connect form (integration-slack-setup.js). Connected: the
// workspace, its bot user, the last post, the app manifest (folded), the settings (PATCH
// /slack), a new token (PUT /slack) and "Disconnect" (DELETE /slack, after a confirmation).
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;

  var card = document.querySelector('[data-slack-card]');
  var q = function (sel) {
    return card.querySelector(sel);
  };
  var pill = q('[data-slack-pill]');
  var setupBox = q('[data-slack-setup]');
  var connectedBox = q('[data-slack-connected]');
  var settings = q('[data-slack-settings-form]');
  var save = settings.querySelector('button[type="submit"]');
  var replace = q('[data-slack-replace-form]');
  var replaceOpen = q('[data-slack-replace-open]');
  var manifest = q('[data-manifest-block]');
  var manifestHome = manifest.parentNode;
  var conn = null;

  function state(connected) {
    card.removeAttribute('aria-busy');
    q('[data-slack-loading]').hidden = true;
    q('[data-slack-failed]').hidden = true;
    pill.className = 'pill ' + (connected ? 'pill-enabled' : 'pill-disabled');
    pill.textContent = connected ? 'Connected' : 'Not connected';
    q('[data-test="slack-log-link"]').hidden = !connected;
    setupBox.hidden = connected;
    connectedBox.hidden = !connected;
    // One manifest: step 1 of the setup, or folded in the connection's card.
    (connected ? q('[data-manifest-details]') : manifestHome).appendChild(manifest);
  }

  function showSetup() {
    conn = null;
    state(false);
  }

  function deliveryLink(d) {
    return '/admin/integration/slack/deliveries/' + encodeURIComponent(d.id);
  }

  // The newest post: its status and age, and Slack's error when it failed.
  function activity() {
    var box = q('[data-slack-activity]');
    C.api('GET', '/slack/deliveries?limit=1').then(
      function (page) {
        box.textContent = '';
        var d = page.data[0];
        if (!d) return box.appendChild(el('span', { class: 'muted', text: 'None yet: start a conversation on your site to see its channel appear.' }));
        var last = d.lastAttempt;
        box.appendChild(el('a', { class: 'activity-link', href: deliveryLink(d), title: I.fullTime(d.createdAt) }, [
          I.statusPill(d.status),
          el('code', { text: d.event }),
          el('span', { class: 'muted', text: C.ago(d.createdAt) }),
        ]));
        if (last && last.error && d.status !== 'delivered') {
          box.appendChild(el('span', { class: 'activity-error activity-' + d.status, 'data-test': 'slack-activity-error', text: last.error }));
        }
      },
      function () {
        box.textContent = '—';
      }
    );
  }

  function showConnected(c, fresh) {
    conn = c;
    state(true);
    var home = c.workspaceUrl || '';
    var ws = q('[data-slack-workspace]');
    ws.textContent = '';
    ws.appendChild(home ? el('a', { href: home, target: '_blank', rel: 'noopener noreferrer', text: c.workspaceName || c.workspaceId }) : el('span', { text: c.workspaceName }));
    if (home) ws.appendChild(el('span', { class: 'muted small fact-sub', text: home.replace(/^https?:\/\//, '').replace(/\/$/, '') }));
    var bot = q('[data-slack-bot]');
    bot.textContent = '';
    bot.appendChild(home ? el('a', { class: 'mono', href: home + 'team/' + c.botUserId, target: '_blank', rel: 'noopener noreferrer', text: c.botUserId }) : el('span', { class: 'mono', text: c.botUserId }));
    bot.appendChild(el('span', { class: 'muted small fact-sub', text: 'Bot ' + c.botId }));
    var since = q('[data-slack-since]');
    since.textContent = C.ago(c.connectedAt);
    since.title = I.fullTime(c.connectedAt);
    settings.elements.notifyChannel.value = c.notifyChannel;
    settings.elements.archiveOnEnd.checked = !!c.archiveOnEnd;
    C.clearErrors(settings);
    save.disabled = true;
    activity();
    if (fresh) {
      C.toast('Slack connected to ' + c.workspaceName + '. Start a conversation on your site: its channel appears in Slack.');
      q('[data-test="slack-log-link"]').focus();
    }
  }

  function failed(err) {
    card.removeAttribute('aria-busy');
    q('[data-slack-loading]').hidden = true;
    pill.className = 'pill';
    pill.textContent = 'Unknown';
    var box = q('[data-slack-failed]');
    box.textContent = 'The Slack connection could not be read: ' + err.detail + ' ';
    box.appendChild(el('button', { type: 'button', class: 'link-button', text: 'Try again', onclick: load }));
    box.hidden = false;
  }

  function load() {
    C.api('GET', '/slack').then(showConnected, function (err) {
      if (err.status === 404) showSetup();
      else failed(err);
    });
  }

  function changed() {
    var f = settings.elements;
    return conn && (f.notifyChannel.value.trim().replace(/^#/, '') !== conn.notifyChannel || f.archiveOnEnd.checked !== !!conn.archiveOnEnd);
  }

  settings.addEventListener('input', function () {
    save.disabled = !changed();
  });
  settings.addEventListener('submit', function (e) {
    e.preventDefault();
    C.clearErrors(settings);
    var f = settings.elements;
    var body = { notifyChannel: f.notifyChannel.value.trim(), archiveOnEnd: f.archiveOnEnd.checked };
    if (!body.notifyChannel) return I.fieldError(settings, I.invalid('`notifyChannel`: give a channel name, like palaver-support, or a channel id.'));
    save.disabled = true;
    C.api('PATCH', '/slack', body)
      .then(function (c) {
        showConnected(c);
        C.toast('Slack settings saved.');
      })
      .catch(function (err) {
        save.disabled = false;
        if (err.status === 404) return showSetup();
        I.fieldError(settings, err);
      });
  });

  function showReplace(show) {
    replace.hidden = !show;
    replaceOpen.setAttribute('aria-expanded', String(show));
    C.clearErrors(replace);
    replace.reset();
    if (show) replace.elements.botToken.focus();
  }
  replaceOpen.addEventListener('click', function () {
    showReplace(replace.hidden);
  });
  q('[data-slack-replace-cancel]').addEventListener('click', function () {
    showReplace(false);
  });
  replace.addEventListener('submit', function (e) {
    e.preventDefault();
    C.clearErrors(replace);
    var f = replace.elements;
    var body = { botToken: f.botToken.value.trim(), signingSecret: f.signingSecret.value.trim() };
    if (!body.botToken) return I.fieldError(replace, I.invalid('`botToken`: paste the Bot User OAuth Token (xoxb-…).'));
    if (!body.signingSecret) return I.fieldError(replace, I.invalid('`signingSecret`: paste the app\'s Signing Secret.'));
    var button = replace.querySelector('button[type="submit"]');
    button.disabled = true;
    C.api('PUT', '/slack', body)
      .then(function (c) {
        var moved = conn && c.workspaceId !== conn.workspaceId;
        showReplace(false);
        showConnected(c);
        C.toast(moved ? 'Slack now posts in ' + c.workspaceName + '.' : 'Token and secret replaced.');
      })
      .catch(function (err) {
        I.fieldError(replace, err);
      })
      .then(function () {
        button.disabled = false;
      });
  });

  q('[data-slack-disconnect]').addEventListener('click', function () {
    var name = conn ? conn.workspaceName : 'Slack';
    I.confirm({
      title: 'Disconnect Slack?',
      text: 'Palaver stops posting in ' + name + ' and no longer acts on what agents write there; conversations go on in the console. Posts not sent yet wait until you connect this workspace again, and the delivery log stays readable.',
      ok: 'Disconnect',
      danger: true,
    }).then(function (yes) {
      if (!yes) return;
      C.api('DELETE', '/slack').then(
        function () {
          showReplace(false);
          showSetup();
          C.toast('Slack disconnected.');
        },
        function (err) {
          if (err.status === 404) return showSetup();
          C.toast(I.plain(err.detail), 'error');
        }
      );
    });
  });

  window.SlackManifest(manifest);
  window.SlackConnect(q('[data-slack-connect-form]'), showConnected);
  load();
})();
