// The console's shared helpers, for every page's script: calls to the JSON API with the
// session's CSRF token (errors as problem+json), the team's live stream, small DOM helpers,
// times, and toasts. Exposed as `window.Console`. Served inside one function scope, after
// ../shared/links.js (see `assets::console`).
  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute('content') : '';
  }

  // A refused call: `status`, `detail` (a sentence for people), `type` (the problem's URN).
  function ApiError(status, problem) {
    this.status = status;
    this.detail = (problem && problem.detail) || 'The server could not be reached. Check your connection and try again.';
    this.type = (problem && problem.type) || '';
  }

  // `api('POST', '/webhooks', {...})` → the answer's JSON (null for 204). A lost session goes
  // back to the sign-in page.
  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = meta('csrf-token');
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch('/api/v1' + path, {
      method: method,
      headers: headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(
      function (res) {
        if (res.status === 401) {
          window.location.href = '/admin/sign-in?next=' + encodeURIComponent(location.pathname + location.search);
        }
        if (res.status === 204) return null;
        return res.text().then(function (text) {
          var json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch (e) {
            json = null;
          }
          if (!res.ok) throw new ApiError(res.status, json);
          return json;
        });
      },
      function () {
        throw new ApiError(0, null);
      }
    );
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === false || v == null) return;
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    });
    (children || []).forEach(function (c) {
      if (c != null && c !== false) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return '';
    var today = new Date().toDateString() === d.toDateString();
    return today ? clock(iso) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function ago(iso) {
    var s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 60) return 'just now';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return when(iso);
  }

  function toast(text, kind) {
    var box = document.querySelector('[data-toasts]');
    if (!box) return;
    var t = el('div', { class: 'toast' + (kind ? ' toast-' + kind : ''), role: kind === 'error' ? 'alert' : 'status', text: text });
    box.appendChild(t);
    setTimeout(function () {
      t.remove();
    }, kind === 'error' ? 8000 : 4000);
  }

  // The team's live stream: `on(eventName, data)` for each event. EventSource reconnects by
  // itself and resumes with Last-Event-ID; `onState(connected)` tells the page.
  function stream(on, onState) {
    var source = new EventSource('/api/v1/events');
    var names = ['ready', 'start', 'message', 'open', 'email', 'end'];
    names.forEach(function (name) {
      source.addEventListener(name, function (e) {
        var data = null;
        try {
          data = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        if (name !== 'ready') on(name, data);
      });
    });
    // Connected once the server says `ready` (not `onopen`: the stream's own `open` event, an
    // agent joining, would arrive there too).
    source.addEventListener('ready', function () {
      if (onState) onState(true);
    });
    source.onerror = function () {
      if (onState) onState(false);
    };
    return source;
  }

  // Shows a refused call's detail next to the field it names (`data-field` inputs of `form`),
  // or in the form's alert box.
  function showError(form, err) {
    clearErrors(form);
    var detail = err.detail || String(err);
    var m = /^`([A-Za-z]+)`/.exec(detail);
    var input = m && form.querySelector('[data-field="' + m[1] + '"]');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      var note = el('p', { class: 'field-error', role: 'alert', text: detail });
      input.insertAdjacentElement('afterend', note);
      input.focus();
      return;
    }
    var alert = form.querySelector('[data-form-error]');
    if (alert) {
      alert.textContent = detail;
      alert.hidden = false;
    } else toast(detail, 'error');
  }

  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach(function (n) {
      n.remove();
    });
    form.querySelectorAll('[aria-invalid]').forEach(function (n) {
      n.removeAttribute('aria-invalid');
    });
    var alert = form.querySelector('[data-form-error]');
    if (alert) alert.hidden = true;
  }

  window.Console = {
    api: api,
    ApiError: ApiError,
    el: el,
    richText: richText,
    clock: clock,
    when: when,
    ago: ago,
    toast: toast,
    stream: stream,
    showError: showError,
    clearErrors: clearErrors,
    meta: meta,
    agentId: meta('palaver-agent'),
    admin: meta('palaver-admin') === 'true',
  };
