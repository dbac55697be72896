// The Slack card's parts for connecting: `window.SlackManifest(block)`, the app manifest for
// this server's public address (GET /slack/manifest, as YAML or JSON, with Copy; a warning when
// Slack could not reach that address), and `window.SlackConnect(form, onConnected)`, the connect
// form (PUT /slack, the token checked by Slack at once; a refusal shown next to its field).
(function () {
  'use strict';
  var C = window.Console;
  var I = window.Integration;
  var el = C.el;

  // The server's public URL as this page was reached (with its path prefix, if any).
  function here() {
    var prefix = location.pathname.replace(/\/admin\/integration\/?$/, '');
    return location.origin + (prefix === location.pathname ? '' : prefix);
  }

  // Why Slack could not send events to `url`, or ''.
  function unreachable(url) {
    var u;
    try {
      u = new URL(url);
    } catch (e) {
      return '';
    }
    var host = u.hostname.replace(/^\[|\]$/g, '');
    var local = /^(localhost|0\.0\.0\.0|::1?|127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host) || /\.(local|localhost|internal)$/.test(host);
    if (local) return 'Slack cannot reach ' + host + ' from the internet: give the address people use to reach this server.';
    if (u.protocol !== 'https:') return 'Slack sends events to HTTPS addresses only: give this server\'s https:// address.';
    return '';
  }

  window.SlackManifest = function (block) {
    var q = function (sel) {
      return block.querySelector(sel);
    };
    var input = q('[data-field="url"]');
    var note = q('[data-request-url]');
    var pre = q('[data-manifest]');
    var copy = q('[data-copy-manifest]');
    var formats = q('[data-manifest-format]');
    var format = 'yaml';
    var current = null;
    var asked = 0;
    var timer = null;

    function show() {
      if (current) pre.textContent = format === 'yaml' ? current.yaml : JSON.stringify(current.manifest, null, 2);
      pre.classList.toggle('manifest-missing', !current);
      copy.disabled = !current;
    }

    function explain(requestUrl, error) {
      note.textContent = '';
      note.classList.toggle('field-error', !!error);
      input.toggleAttribute('aria-invalid', !!error);
      if (error) return note.appendChild(document.createTextNode(error));
      note.appendChild(document.createTextNode('Slack will send events to '));
      note.appendChild(el('code', { text: requestUrl }));
      note.appendChild(document.createTextNode('.'));
      var warning = unreachable(requestUrl);
      if (warning) note.appendChild(el('span', { class: 'url-warning', 'data-test': 'slack-url-warning', text: ' ' + warning }));
    }

    function load() {
      var url = input.value.trim();
      var n = ++asked;
      if (!url) {
        current = null;
        pre.textContent = 'Give this server\'s public address to get its manifest.';
        explain('', 'The address is missing: give the one Slack can reach, like https://chat.example.com.');
        return show();
      }
      C.api('GET', '/slack/manifest?url=' + encodeURIComponent(url)).then(
        function (m) {
          if (n !== asked) return;
          current = m;
          explain(m.requestUrl, '');
          show();
        },
        function (err) {
          if (n !== asked) return;
          current = null;
          pre.textContent = 'No manifest for this address.';
          explain('', I.plain(err.detail));
          show();
        }
      );
    }

    input.value = here();
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(load, 350);
    });
    formats.addEventListener('click', function (e) {
      var button = e.target.closest('button[data-format]');
      if (!button) return;
      format = button.getAttribute('data-format');
      formats.querySelectorAll('button').forEach(function (b) {
        b.setAttribute('aria-pressed', String(b === button));
      });
      show();
    });
    copy.addEventListener('click', function () {
      I.copy(pre.textContent, 'Manifest');
    });
    load();
  };

  window.SlackConnect = function (form, onConnected) {
    var submit = form.querySelector('button[type="submit"]');

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      C.clearErrors(form);
      var f = form.elements;
      var body = {
        botToken: f.botToken.value.trim(),
        signingSecret: f.signingSecret.value.trim(),
        notifyChannel: f.notifyChannel.value.trim() || 'palaver-support',
        archiveOnEnd: f.archiveOnEnd.checked,
      };
      if (!body.botToken) return I.fieldError(form, I.invalid('`botToken`: paste the Bot User OAuth Token (xoxb-…) from the app\'s OAuth & Permissions page.'));
      if (!body.signingSecret) return I.fieldError(form, I.invalid('`signingSecret`: paste the Signing Secret from the app\'s Basic Information page.'));
      submit.disabled = true;
      submit.textContent = 'Checking with Slack…';
      C.api('PUT', '/slack', body)
        .then(function (connection) {
          form.reset();
          onConnected(connection, true);
        })
        .catch(function (err) {
          I.fieldError(form, err);
        })
        .then(function () {
          submit.disabled = false;
          submit.textContent = 'Connect Slack';
        });
    });
  };
})();
