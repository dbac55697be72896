// Shared by the widget and the console (each bundle puts it in its own scope beside its `el`).
// Message text with its links made clickable: Slack's `<url>` and `<url|label>`, and bare URLs.
function richText(text) {
  var out = document.createDocumentFragment();
  var re = /<(https?:\/\/[^>|\s]+)(?:\|([^>]*))?>|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])/gi;
  var last = 0;
  var m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.appendChild(document.createTextNode(text.slice(last, m.index)));
    var href = m[1] || m[3];
    out.appendChild(el('a', { href: href, target: '_blank', rel: 'noopener noreferrer nofollow', text: m[2] || href }));
    last = re.lastIndex;
  }
  if (last < text.length) out.appendChild(document.createTextNode(text.slice(last)));
  return out;
}
