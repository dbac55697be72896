// The host page's hostile CSS leaves the widget alone, and the widget leaves the host page alone:
// every host element's computed style and box are the same before and after the widget loads
// (and after it opens); the widget defines one global; its bubble keeps its own size and colours.
import { bubbleSays, check, env, part, run, screenshot, still, visitor } from './lib.mjs';

// Every element of the host page but the widget's host: its tag, box and full computed style.
function snapshot() {
  const widget = document.getElementById('palaver-widget');
  const elements = [...document.querySelectorAll('*')].filter((e) => e !== widget);
  return {
    globals: Object.keys(window),
    scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight, window.scrollX, window.scrollY],
    elements: elements.map((e) => {
      const cs = getComputedStyle(e);
      const style = {};
      for (const p of cs) style[p] = cs.getPropertyValue(p);
      const r = e.getBoundingClientRect();
      return { what: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}`, box: [r.x, r.y, r.width, r.height], style };
    }),
  };
}

function differences(before, after, when) {
  const out = [];
  if (JSON.stringify(before.scroll) !== JSON.stringify(after.scroll)) {
    out.push(`document scroll size/position ${before.scroll} became ${after.scroll}`);
  }
  const names = (s) => s.elements.map((e) => e.what).join(' ');
  if (names(before) !== names(after)) {
    out.push(`the host's elements changed:\n  before: ${names(before)}\n  after:  ${names(after)}`);
    return `${when}:\n${out.join('\n')}`;
  }
  before.elements.forEach((b, i) => {
    const a = after.elements[i];
    if (JSON.stringify(a.box) !== JSON.stringify(b.box)) out.push(`${b.what} moved: [${b.box}] → [${a.box}]`);
    for (const [p, v] of Object.entries(b.style)) {
      if (a.style[p] !== v) out.push(`${b.what} { ${p}: ${v} } became ${a.style[p]}`);
    }
  });
  return out.length ? `${when}:\n${out.slice(0, 20).join('\n')}` : null;
}

async function ownStyle(locator) {
  return locator.evaluate((e) => {
    const cs = getComputedStyle(e);
    return {
      background: cs.backgroundColor, border: cs.borderTopStyle, fontSize: parseFloat(cs.fontSize),
      textTransform: cs.textTransform, letterSpacing: cs.letterSpacing,
    };
  });
}

await run(async (browser) => {
  const { page } = await visitor(browser, { viewport: { width: 1280, height: 800 } });
  // Hold widget.js until the page without it has been measured.
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  await page.route('**/widget.js', async (route) => { await released; await route.continue(); });
  await page.goto(env.hostUrl, { waitUntil: 'domcontentloaded' });
  check((await page.title()) === env.hostTitle, `host page title ${await page.title()}`);
  const before = await page.evaluate(snapshot);
  release();

  const bubble = part(page, 'bubble');
  await bubble.waitFor({ state: 'visible' });
  const after = await page.evaluate(snapshot);
  const diff = differences(before, after, 'the host page changed when the widget loaded');
  check(!diff, diff);
  const added = after.globals.filter((g) => !before.globals.includes(g));
  check(JSON.stringify(added) === '["palaver"]', `the widget must add one global, palaver; it added ${JSON.stringify(added)}`);
  check(await page.evaluate(() => typeof window.palaver === 'function'), 'window.palaver is not a function');
  check(await page.locator('#palaver-widget').count() === 1, 'expected one <div id="palaver-widget">');
  check(await page.evaluate(() => document.getElementById('palaver-widget').shadowRoot !== null), 'the widget host has no open shadow root');

  await still(bubble);
  check(await bubbleSays(page, 'Open chat'), 'the closed bubble must say "Open chat"');
  const box = await bubble.boundingBox();
  const { width, height } = page.viewportSize();
  check(box.width >= 48 && box.width <= 72 && box.height >= 48 && box.height <= 72,
    `the bubble must keep its own size (about 56-64 px), not the host's: ${JSON.stringify(box)}`);
  const right = width - (box.x + box.width);
  const bottom = height - (box.y + box.height);
  check(right >= 4 && right <= 64 && bottom >= 4 && bottom <= 64,
    `the bubble must sit in the bottom right corner: ${JSON.stringify(box)} in ${width}×${height}`);
  const look = await ownStyle(bubble);
  check(look.background !== 'rgba(0, 0, 0, 0)' && look.background !== 'rgb(255, 0, 255)',
    `the bubble's background must be its own, got ${look.background}`);
  check(look.border !== 'dashed', 'the host\'s dashed button border reached the bubble');
  await screenshot(page, 'closed');

  await bubble.click();
  const panel = part(page, 'panel');
  await panel.waitFor({ state: 'visible' });
  await still(panel);
  check((await panel.getAttribute('role')) === 'dialog', 'the panel must have role="dialog"');
  const p = await panel.boundingBox();
  check(p.width >= 300 && p.width <= 480 && p.x >= 0 && p.y >= 0 && p.x + p.width <= width && p.y + p.height <= height,
    `the open panel must fit the viewport at its own size: ${JSON.stringify(p)}`);
  const panelLook = await ownStyle(panel);
  check(panelLook.textTransform === 'none', `the host's text-transform reached the panel: ${panelLook.textTransform}`);
  check(panelLook.fontSize >= 12 && panelLook.fontSize <= 20, `the panel's font size must be its own, got ${panelLook.fontSize}px`);
  const inputLook = await ownStyle(part(page, 'input'));
  check(inputLook.fontSize >= 12 && inputLook.fontSize <= 20, `the composer's font size must be its own, got ${inputLook.fontSize}px`);
  check(inputLook.border !== 'dashed', 'the host\'s dashed input border reached the composer');
  const open = await page.evaluate(snapshot);
  const openDiff = differences(before, open, 'the host page changed when the widget opened');
  check(!openDiff, openDiff);

  await bubble.click();
  await panel.waitFor({ state: 'hidden' });
  check(await bubbleSays(page, 'Open chat'), 'the closed bubble must say "Open chat" again');
});
