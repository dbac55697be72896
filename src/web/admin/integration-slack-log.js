// The Slack bridge's delivery log page: the connection's state in the head (GET /slack), and
// the webhook log's code (integration-log.js) reading GET /slack/deliveries, each row's last
// status being Slack's answer with the Web API method that failed.
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;

  var page = document.querySelector('[data-slack-page]');
  var pill = page.querySelector('[data-slack-pill]');
  var where = page.querySelector('[data-slack-where]');

  function label(last) {
    var box = el('span', { class: 'slack-last' }, [I.slackLabel(last)]);
    var failing = last && last.error ? I.slackError(last) : null;
    if (failing && failing.method) box.appendChild(el('code', { class: 'slack-method', title: 'The Web API method that failed', text: failing.method }));
    return box;
  }

  // Slack was never connected: no log, and what to do.
  function notConnected(err, body) {
    if (err.status !== 404) return false;
    page.querySelector('[data-filter]').hidden = true;
    body.appendChild(
      el('div', { class: 'empty', 'data-test': 'slack-not-connected' }, [
        el('strong', { text: 'Slack is not connected' }),
        el('p', { text: 'Connect your workspace on the Integration page: each visitor then gets a channel in Slack, and every post Palaver makes there is listed here.' }),
        el('a', { class: 'button', href: '/admin/integration#slack', text: 'Connect Slack', 'data-test': 'slack-connect-link' }),
      ])
    );
    return true;
  }

  C.api('GET', '/slack').then(
    function (c) {
      pill.className = 'pill pill-enabled';
      pill.textContent = 'Connected';
      where.textContent = '';
      where.appendChild(document.createTextNode('Posting in '));
      where.appendChild(c.workspaceUrl ? el('a', { href: c.workspaceUrl, target: '_blank', rel: 'noopener noreferrer', text: c.workspaceName }) : el('strong', { text: c.workspaceName }));
      where.appendChild(document.createTextNode(', new visitors announced in ' + (/^[CG][A-Z0-9]+$/.test(c.notifyChannel) ? c.notifyChannel : '#' + c.notifyChannel) + '.'));
    },
    function (err) {
      pill.className = 'pill pill-disabled';
      pill.textContent = err.status === 404 ? 'Not connected' : 'Unknown';
      where.textContent = err.status === 404 ? 'Nothing is posted in Slack while it is not connected.' : err.detail;
    }
  );

  window.IntegrationLog(page.querySelector('[data-log]'), '', null, {
    api: '/slack/deliveries',
    link: function (d) {
      return '/admin/integration/slack/deliveries/' + encodeURIComponent(d.id);
    },
    label: label,
    empty: {
      '': ['No posts yet', 'Start a conversation on your site: Palaver makes the visitor\'s channel in Slack, and each post it makes there appears here.'],
      pending: ['Nothing pending', 'Every post has reached Slack or has given up.'],
      delivered: ['Nothing delivered yet', 'Posts Slack accepted appear here.'],
      failed: ['No failed posts', 'Posts Slack refused for good (a revoked token, a refused request) appear here; open one to redeliver it.'],
    },
    failed: notConnected,
  });
})();
