// The Agents page: the team's agents (Slack user objects) in a table with their console access,
// a filter, the add/edit dialog (agent_form.js), console passwords set, reset or removed, and
// deletion after a confirmation. Everything goes through the JSON API.
(function () {
  'use strict';
  var C = window.Console;
  var el = C.el;
  function $(sel) {
    return document.querySelector(sel);
  }

  var agents = [];
  var access = {};
  var filter = '';

  function str(v) {
    return typeof v === 'string' ? v : '';
  }
  function profile(a) {
    return (a.profile && typeof a.profile === 'object' && a.profile) || {};
  }
  function nameOf(a) {
    return str(a.real_name) || str(profile(a).real_name) || str(a.name) || a.id;
  }
  function emailOf(a) {
    return str(profile(a).email);
  }

  function load() {
    var all = [];
    var hasAccess = {};
    function page(cursor) {
      var q = '/agents?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return C.api('GET', q).then(function (r) {
        all = all.concat(r.data || []);
        (r.consoleAccess || []).forEach(function (id) {
          hasAccess[id] = true;
        });
        return r.nextCursor ? page(r.nextCursor) : null;
      });
    }
    return page(null).then(
      function () {
        agents = all.sort(function (a, b) {
          return nameOf(a).localeCompare(nameOf(b));
        });
        access = hasAccess;
        $('[data-load-error]').hidden = true;
        render();
      },
      function (err) {
        $('[data-loading]').hidden = true;
        var box = $('[data-load-error]');
        box.textContent = 'The agents could not be loaded: ' + err.detail + ' ';
        box.appendChild(el('button', { type: 'button', class: 'link-button', text: 'Try again', onclick: load }));
        box.hidden = false;
      }
    );
  }

  function avatar(a) {
    var initial = el('span', { class: 'ag-avatar c' + (a.id.charCodeAt(a.id.length - 1) % 5), 'aria-hidden': 'true', text: (nameOf(a)[0] || '?').toUpperCase() });
    var src = str(profile(a).image_48) || str(profile(a).image_72);
    if (!/^https:\/\//i.test(src)) return initial;
    return el('img', {
      class: 'ag-avatar', src: src, alt: '', width: 40, height: 40, loading: 'lazy',
      onerror: function (e) {
        e.target.replaceWith(initial);
      },
    });
  }

  function button(label, cls, test, aria, onclick) {
    return el('button', { type: 'button', class: 'button button-small ' + cls, 'data-test': test, 'aria-label': aria, text: label, onclick: onclick });
  }

  function row(a) {
    var name = nameOf(a);
    var handle = str(a.name) ? '@' + a.name : '';
    var title = str(profile(a).title);
    var email = emailOf(a);
    var yes = !!access[a.id];
    return el('tr', { 'data-test': 'agent-row', 'data-agent-id': a.id }, [
      el('td', { class: 'ag-cell-who' }, [
        el('div', { class: 'ag-who' }, [
          avatar(a),
          el('div', { class: 'ag-names' }, [
            el('div', { class: 'ag-name', 'data-test': 'agent-display-name', text: name }),
            el('div', { class: 'ag-handle', text: [handle, title].filter(Boolean).join(' · ') }),
          ]),
        ]),
      ]),
      el('td', { class: 'ag-cell-id', 'data-label': 'ID' }, [el('span', { class: 'mono ag-id', text: a.id })]),
      el('td', { class: 'ag-cell-email', 'data-label': 'Email' }, [
        email ? el('span', { class: 'ag-email', text: email }) : el('span', { class: 'ag-missing', text: 'No email' }),
      ]),
      el('td', { class: 'ag-cell-access' }, [
        el('span', { class: 'pill ' + (yes ? 'pill-yes' : 'pill-no'), 'data-test': 'console-access', 'data-access': yes ? 'yes' : 'no', text: yes ? 'Console access' : 'No access' }),
      ]),
      el('td', { class: 'ag-cell-actions' }, [
        el('div', { class: 'ag-actions' }, [
          button('Edit', 'button-secondary', 'edit-agent', 'Edit ' + name, function () {
            window.AgentForm.open(a, agents, saved);
          }),
          button(yes ? 'Reset password' : 'Set password', 'button-secondary', 'set-password', (yes ? 'Reset the console password of ' : 'Set a console password for ') + name, function () {
            openPassword(a);
          }),
          button('Delete', 'button-danger', 'delete-agent', 'Delete ' + name, function () {
            remove(a);
          }),
        ]),
      ]),
    ]);
  }

  function render() {
    $('[data-loading]').hidden = true;
    var none = agents.length === 0;
    $('[data-empty]').hidden = !none;
    $('[data-table]').hidden = none;
    $('[data-bar]').hidden = none;
    var q = filter.toLowerCase();
    var shown = agents.filter(function (a) {
      return !q || [nameOf(a), str(a.name), emailOf(a), a.id].join(' ').toLowerCase().indexOf(q) >= 0;
    });
    $('[data-rows]').replaceChildren.apply($('[data-rows]'), shown.map(row));
    $('[data-no-match]').hidden = shown.length > 0 || none;
    var n = Object.keys(access).length;
    $('[data-count]').textContent = agents.length + (agents.length === 1 ? ' agent' : ' agents') + ' · ' + n + ' with console access';
  }

  function flash(id) {
    var tr = document.querySelector('tr[data-agent-id="' + CSS.escape(id) + '"]');
    if (tr) tr.classList.add('ag-fresh');
  }

  function saved(agent, added) {
    C.toast((added ? 'Added ' : 'Saved ') + nameOf(agent) + '.');
    load().then(function () {
      flash(agent.id);
    });
  }

  // A yes/no question in the confirm dialog; resolves to whether the person said yes.
  function ask(title, text, yes) {
    var d = $('[data-confirm-dialog]');
    $('[data-confirm-title]').textContent = title;
    $('[data-confirm-text]').textContent = text;
    var ok = $('[data-confirm-ok]');
    ok.textContent = yes;
    ok.value = 'yes';
    d.returnValue = '';
    d.showModal();
    return new Promise(function (resolve) {
      d.addEventListener('close', function () {
        resolve(d.returnValue === 'yes');
      }, { once: true });
    });
  }

  function remove(a) {
    var name = nameOf(a);
    var text = name + ' (' + a.id + ') leaves the registry: they are signed out of the console and can no longer join or answer conversations. Conversations they held keep their name and picture.';
    ask('Delete ' + name + '?', text, 'Delete agent').then(function (yes) {
      if (!yes) return;
      C.api('DELETE', '/agents/' + encodeURIComponent(a.id)).then(
        function () {
          C.toast('Deleted ' + name + '.');
          load();
        },
        function (err) {
          C.toast(err.detail, 'error');
        }
      );
    });
  }

  // The password dialog.
  var pw = $('[data-password-dialog]');
  var pwForm = $('[data-password-form]');
  var pwInput = pwForm.querySelector('[data-field="password"]');
  var pwConfirm = pwForm.querySelector('[data-field="confirm"]');
  var pwSubmit = pwForm.querySelector('[data-submit]');
  var pwAgent = null;

  function fail(input, text) {
    input.setAttribute('aria-invalid', 'true');
    input.insertAdjacentElement('afterend', el('p', { class: 'field-error', role: 'alert', text: text }));
    input.focus();
  }

  function openPassword(a) {
    pwAgent = a;
    var name = nameOf(a);
    var has = !!access[a.id];
    var email = emailOf(a);
    C.clearErrors(pwForm);
    $('[data-pw-title]').textContent = (has ? 'Reset the console password of ' : 'Set a console password for ') + name;
    var lead = name + ' signs in at ' + location.origin + '/admin with ' + (email || 'their email') + ' and this password.';
    if (has) lead += ' A new password signs them out of every open session.';
    $('[data-pw-lead]').textContent = lead;
    var noEmail = $('[data-no-email]');
    noEmail.textContent = name + '\'s profile has no email yet: add one with Edit so that they can sign in.';
    noEmail.hidden = !!email;
    pwForm.querySelector('[data-revoke]').hidden = !has;
    pwSubmit.textContent = has ? 'Reset password' : 'Set password';
    pw.showModal();
    pwInput.focus();
  }

  pwForm.addEventListener('submit', function (e) {
    e.preventDefault();
    C.clearErrors(pwForm);
    var p = pwInput.value;
    var n = Array.from(p).length;
    if (n < 10) return fail(pwInput, 'Use at least 10 characters' + (n ? ' (this one has ' + n + ').' : '.'));
    if (n > 200) return fail(pwInput, 'Use at most 200 characters.');
    if (pwConfirm.value !== p) return fail(pwConfirm, 'The two passwords are not the same.');
    var a = pwAgent;
    var label = pwSubmit.textContent;
    pwSubmit.disabled = true;
    pwSubmit.textContent = 'Saving…';
    C.api('PUT', '/agents/' + encodeURIComponent(a.id) + '/password', { password: p })
      .then(
        function () {
          var had = access[a.id];
          pw.close();
          C.toast((had ? 'New console password set for ' : 'Console access given to ') + nameOf(a) + '.');
          access[a.id] = true;
          render();
        },
        function (err) {
          if (err.status === 422) fail(pwInput, err.detail.charAt(0).toUpperCase() + err.detail.slice(1) + '.');
          else C.showError(pwForm, err);
        }
      )
      .then(function () {
        pwSubmit.disabled = false;
        pwSubmit.textContent = label;
      });
  });

  pwForm.querySelector('[data-remove-access]').addEventListener('click', function () {
    var a = pwAgent;
    var name = nameOf(a);
    pw.close();
    ask('Remove console access for ' + name + '?', name + ' is signed out now and their password stops working. You can give them a new one later.', 'Remove access').then(function (yes) {
      if (!yes) return;
      C.api('DELETE', '/agents/' + encodeURIComponent(a.id) + '/password').then(
        function () {
          C.toast(name + ' no longer has console access.');
          delete access[a.id];
          render();
        },
        function (err) {
          C.toast(err.detail, 'error');
        }
      );
    });
  });

  pwForm.addEventListener('input', function (e) {
    var note = e.target.closest('.field') && e.target.closest('.field').querySelector('.field-error');
    if (note) note.remove();
    e.target.removeAttribute('aria-invalid');
  });

  pwForm.querySelector('[data-show-passwords]').addEventListener('change', function (e) {
    pwInput.type = pwConfirm.type = e.target.checked ? 'text' : 'password';
  });

  // A closed password dialog keeps nothing typed.
  pw.addEventListener('close', function () {
    pwInput.value = pwConfirm.value = '';
    pwInput.type = pwConfirm.type = 'password';
    pwForm.querySelector('[data-show-passwords]').checked = false;
    C.clearErrors(pwForm);
  });

  document.querySelectorAll('[data-close]').forEach(function (b) {
    b.addEventListener('click', function () {
      b.closest('dialog').close();
    });
  });
  document.querySelectorAll('[data-action="add"]').forEach(function (b) {
    b.addEventListener('click', function () {
      window.AgentForm.open(null, agents, saved);
    });
  });
  $('[data-filter]').addEventListener('input', function (e) {
    filter = e.target.value.trim();
    render();
  });

  load().then(function () {
    if (location.hash === '#add') window.AgentForm.open(null, agents, saved);
  });
})();
