// Small DOM helpers and the icons. Text from the network only ever goes in through textContent
// or attributes, never as HTML.

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  for (var k in attrs || {}) {
    if (attrs[k] === false || attrs[k] == null) continue;
    if (k === 'text') node.textContent = attrs[k];
    else if (k === 'class') node.className = attrs[k];
    else node.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
  }
  (children || []).forEach(function (c) {
    if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  });
  return node;
}

// A fixed SVG icon (our markup, no input in it).
function icon(name) {
  var span = el('span', { class: 'pv-icon', 'aria-hidden': 'true' });
  span.innerHTML = ICONS[name];
  return span;
}

var SVG = '<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">';
var ICONS = {
  chat: SVG + '<path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9.6 9.6 0 0 1-3.9-.8L3 20.5l1.4-4.2A8 8 0 0 1 3 11.5 8.5 8.5 0 0 1 12 3a8.5 8.5 0 0 1 9 8.5z"/></svg>',
  close: SVG + '<path d="M18 6 6 18M6 6l12 12"/></svg>',
  down: SVG + '<path d="m6 9 6 6 6-6"/></svg>',
  send: SVG + '<path d="M22 2 11 13"/><path d="M22 2 15 22l-4-9-9-4 20-7z"/></svg>',
  offline: SVG + '<path d="M1 1l22 22M16.7 11.1A10.9 10.9 0 0 1 19 12.6M5 12.6a10.9 10.9 0 0 1 5.2-2.5M10.7 5A16 16 0 0 1 22.6 9M1.4 9a15.9 15.9 0 0 1 4.3-2.7M8.5 16.1a5 5 0 0 1 7 0M12 20h0"/></svg>',
};

// The team's mark: the chat icon on the accent colour.
function teamAvatar() {
  var span = el('span', { class: 'pv-avatar pv-initial pv-team', 'aria-hidden': 'true' }, [icon('chat')]);
  return span;
}

// The avatar of a person: their picture, or their initial on the accent colour.
function avatar(name, picture) {
  var initial = el('span', { class: 'pv-avatar pv-initial', 'aria-hidden': 'true', text: (name || '?').trim().charAt(0).toUpperCase() || '?' });
  if (!/^https?:\/\//i.test(picture || '')) return initial;
  var img = el('img', { class: 'pv-avatar', src: picture, alt: '', referrerpolicy: 'no-referrer', loading: 'lazy' });
  img.addEventListener('error', function () {
    if (img.parentNode) img.parentNode.replaceChild(initial, img);
  });
  return img;
}

function clock(iso) {
  var d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// Black or white, whichever reads better on a `#rrggbb` background.
function readableOn(hex) {
  var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex || '');
  if (!m) return '#ffffff';
  var h = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
  var c = [0, 2, 4].map(function (i) {
    var v = parseInt(h.substr(i, 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  var lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  return lum > 0.45 ? '#111827' : '#ffffff';
}
