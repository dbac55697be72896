// The Agents page's add/edit dialog: fields a person fills (ID, names, email, title, picture)
// and the raw Slack user object they build, kept in step both ways. Editing changes the stored
// object in place, so keys the form does not know are kept. Exposed as `window.AgentForm`.
(function () {
  'use strict';
  var C = window.Console;
  var dialog = document.querySelector('[data-agent-dialog]');
  var form = document.querySelector('[data-agent-form]');
  var json = form.querySelector('[data-json]');
  var raw = form.querySelector('[data-raw]');
  var submit = form.querySelector('[data-submit]');
  var inputs = form.querySelectorAll('[data-key]');

  var draft = null; // the object being edited
  var editing = null; // the stored agent's id, or null when adding
  var jsonError = ''; // why the textarea's text is not an object, if it is not
  var others = []; // the other agents (for duplicate checks)
  var saved = null; // called with the saved agent

  function str(v) {
    return typeof v === 'string' ? v : '';
  }
  function prof(o) {
    if (!o.profile || typeof o.profile !== 'object' || Array.isArray(o.profile)) o.profile = {};
    return o.profile;
  }
  function profile(o) {
    return (o && o.profile && typeof o.profile === 'object' && o.profile) || {};
  }
  function images(p) {
    return Object.keys(p).filter(function (k) {
      return /^image_(\d+|original)$/.test(k);
    });
  }

  // Each field: how it reads the object and how it changes it (only what it names).
  var FIELDS = {
    id: {
      get: function (o) { return str(o.id); },
      set: function (o, v) { o.id = v; },
    },
    name: {
      get: function (o) { return str(o.name); },
      set: function (o, v) {
        var p = prof(o);
        if (!str(p.display_name) || p.display_name === o.name) p.display_name = v;
        o.name = v;
      },
    },
    real_name: {
      get: function (o) { return str(o.real_name) || str(profile(o).real_name); },
      set: function (o, v) {
        o.real_name = v;
        prof(o).real_name = v;
        if ('real_name_normalized' in prof(o)) o.profile.real_name_normalized = v;
      },
    },
    email: {
      get: function (o) { return str(profile(o).email); },
      set: function (o, v) { prof(o).email = v; },
    },
    title: {
      get: function (o) { return str(profile(o).title); },
      set: function (o, v) { prof(o).title = v; },
    },
    picture: {
      get: function (o) { return str(profile(o).image_72) || str(profile(o).image_48); },
      set: function (o, v) {
        var p = prof(o);
        var keys = images(p);
        if (!v) return keys.forEach(function (k) { delete p[k]; });
        if (!keys.length) keys = ['image_48', 'image_72'];
        keys.forEach(function (k) { p[k] = v; });
      },
    },
  };

  function fill(except) {
    inputs.forEach(function (input) {
      if (input !== except) input.value = FIELDS[input.dataset.key].get(draft);
    });
  }
  function showJson() {
    json.value = JSON.stringify(draft, null, 2);
    jsonError = '';
  }

  inputs.forEach(function (input) {
    input.addEventListener('input', function () {
      if (jsonError) return fail(json, 'Fix the raw JSON first: ' + jsonError, true);
      FIELDS[input.dataset.key].set(draft, input.value.trim());
      showJson();
    });
  });
  json.addEventListener('input', function () {
    var v;
    try {
      v = JSON.parse(json.value);
    } catch (e) {
      jsonError = 'This is not valid JSON yet: ' + e.message;
      return;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      jsonError = 'The agent must be one JSON object: {"id": "U…", "name": …}.';
      return;
    }
    jsonError = '';
    draft = v;
    fill(null);
  });
  json.addEventListener('blur', function () {
    if (jsonError) fail(json, jsonError, true);
  });

  // An error next to the input (after the `@` group for the username).
  function fail(input, text, keepFocus) {
    var after = input.closest('.ag-at') || input;
    var old = after.parentNode.querySelector('.field-error');
    if (old) old.remove();
    input.setAttribute('aria-invalid', 'true');
    after.insertAdjacentElement('afterend', C.el('p', { class: 'field-error', role: 'alert', text: text }));
    if (input === json) raw.open = true;
    if (!keepFocus) input.focus();
    return false;
  }
  function field(key) {
    return form.querySelector('[data-key="' + key + '"]');
  }

  // What the person must fix before the object goes to the server, if anything.
  function valid() {
    if (jsonError) return fail(json, jsonError);
    var id = str(draft.id);
    if (editing !== null && id !== editing) {
      return fail(json, 'The "id" must stay ' + editing + '. To change an ID, add a new agent and delete this one.');
    }
    if (!id) return fail(field('id'), 'Enter the agent\'s Slack user ID, like U0F2Z1234.');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      return fail(field('id'), 'An ID has up to 64 letters, digits, dots, dashes or underscores (like U0F2Z1234).');
    }
    if (!FIELDS.real_name.get(draft) && !FIELDS.name.get(draft)) {
      return fail(field('real_name'), 'Give a full name or a username: visitors see it when this agent answers.');
    }
    var email = FIELDS.email.get(draft);
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return fail(field('email'), 'This does not look like an email address.');
    var twin = email && others.find(function (a) {
      return a.id !== id && str(profile(a).email).toLowerCase() === email.toLowerCase();
    });
    if (twin) return fail(field('email'), twin.id + ' (' + (twin.real_name || twin.name || twin.id) + ') has this email already; each agent signs in with its own.');
    var pic = FIELDS.picture.get(draft);
    if (pic && !/^https:\/\/\S+$/i.test(pic)) return fail(field('picture'), 'Use an https:// address: the console and the widget show pictures over HTTPS only.');
    return true;
  }

  function busy(on, label) {
    submit.disabled = on;
    submit.textContent = label;
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    C.clearErrors(form);
    if (!valid()) return;
    var id = draft.id;
    var label = submit.textContent;
    busy(true, 'Saving…');
    var check = editing !== null
      ? Promise.resolve()
      : C.api('GET', '/agents/' + encodeURIComponent(id)).then(
          function (a) {
            var who = FIELDS.real_name.get(a) || FIELDS.name.get(a);
            throw { field: 'id', detail: 'An agent with this ID exists already' + (who ? ' (' + who + ')' : '') + '. Edit it in the list instead.' };
          },
          function (err) {
            if (err.status !== 404) throw err;
          }
        );
    check
      .then(function () {
        return C.api('PUT', '/agents/' + encodeURIComponent(id), draft);
      })
      .then(function (agent) {
        dialog.close();
        if (saved) saved(agent, editing === null);
      })
      .catch(function (err) {
        if (err.field) fail(field(err.field), err.detail);
        else C.showError(form, err);
      })
      .then(function () {
        busy(false, label);
      });
  });

  // A field's error goes as soon as the person changes it.
  form.addEventListener('input', function (e) {
    var box = e.target.closest('.field, details');
    var note = box && box.querySelector('.field-error');
    if (note && !(e.target === json && jsonError)) note.remove();
    e.target.removeAttribute('aria-invalid');
  });

  dialog.addEventListener('close', function () {
    C.clearErrors(form);
  });

  // Opens the dialog for `agent` (a stored object, edited in place of a copy) or a new one.
  function open(agent, all, onSaved) {
    others = all || [];
    saved = onSaved;
    editing = agent ? agent.id : null;
    draft = agent
      ? JSON.parse(JSON.stringify(agent))
      : { id: '', name: '', real_name: '', profile: { real_name: '', display_name: '', email: '', title: '' } };
    C.clearErrors(form);
    fill(null);
    showJson();
    raw.open = false;
    field('id').readOnly = !!agent;
    form.querySelector('[data-id-hint]').textContent = agent
      ? 'An agent\'s ID cannot change.'
      : 'From the member\'s Slack profile: ⋮ → Copy member ID.';
    var name = agent && (FIELDS.real_name.get(agent) || FIELDS.name.get(agent) || agent.id);
    form.querySelector('[data-form-title]').textContent = agent ? 'Edit ' + name : 'Add an agent';
    busy(false, agent ? 'Save changes' : 'Add agent');
    dialog.showModal();
    (agent ? field('real_name') : field('id')).focus();
  }

  window.AgentForm = { open: open };
})();
