// Shared by the browser scenarios (run by tests/api/browser.rs, which sets the environment).
// Plain ES module; playwright-core drives Debian's Chromium (never a downloaded browser).
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these scripts through cargo test`);
  return value;
}

export const env = {
  palaver: need('PALAVER_URL'),
  apiKey: need('PALAVER_API_KEY'),
  siteKey: need('PALAVER_SITE_KEY'),
  chromium: need('PALAVER_CHROMIUM'),
  hostUrl: need('HOST_URL'),
  hostTitle: need('HOST_TITLE'),
  agentId: need('AGENT_ID'),
  screenshots: need('SCREENSHOTS'),
};

// The flags that work on this machine (closed network, root, no GPU).
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Every wait is bounded by this failure limit (the Rust harness's WAIT); nothing waits a fixed time.
const STEP_TIMEOUT = 20_000;

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

// What a failed scenario leaves for its reader (console windows add their screenshots).
const onFailure = [];

// Runs `scenario(browser)` and exits 0, or prints the error and the page logs and exits 1.
export async function run(scenario) {
  const browser = await chromium.launch({ executablePath: env.chromium, args: FLAGS });
  try {
    await scenario(browser);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
    for (const hook of onFailure) await hook().catch((e) => console.error(`(evidence lost: ${e.message})`));
  } finally {
    await browser.close();
  }
}

// A fresh visitor (own storage) in a new context; page console lines are echoed for failures.
export async function visitor(browser, options = {}) {
  const context = await browser.newContext({ locale: 'en-US', ...options });
  context.setDefaultTimeout(STEP_TIMEOUT);
  const page = await context.newPage();
  page.on('console', (m) => console.log(`[page ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  page.on('requestfailed', (r) => console.log(`[request failed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  return { context, page };
}

// A locator for one of the widget's `data-part`s (Playwright's CSS pierces its open shadow root).
export function part(page, name) {
  return page.locator(`[data-part="${name}"]`);
}

// The transcript's messages from `from` ('visitor' | 'agent'), in `state` if given, holding `text`.
export function message(page, from, text, state) {
  const s = state ? `[data-state="${state}"]` : '';
  return page.locator(`[data-part="message"][data-from="${from}"]${s}`).filter({ hasText: text });
}

// Loads the host page and waits for the widget's bubble.
export async function openHost(page) {
  await page.goto(env.hostUrl);
  await part(page, 'bubble').waitFor({ state: 'visible' });
}

// The bubble's label starts with "Open chat" when closed (it may add the unread count).
export async function bubbleSays(page, label) {
  const said = await part(page, 'bubble').getAttribute('aria-label');
  return typeof said === 'string' && said.startsWith(label);
}

// Opens the panel with the bubble (if closed) and waits for it to be open and still.
export async function openPanel(page) {
  if (await bubbleSays(page, 'Open chat')) await part(page, 'bubble').click();
  await part(page, 'panel').waitFor({ state: 'visible' });
  await still(part(page, 'panel'));
  check(await bubbleSays(page, 'Close chat'), 'an open panel\'s bubble must say "Close chat"');
}

// Awaits the end of the running finite animations and transitions of the element's tree (the
// widget's whole shadow root for an element of the widget).
export async function still(locator) {
  await locator.evaluate((e) => {
    const root = e.getRootNode();
    const all = [...e.getAnimations({ subtree: true }), ...(root.getAnimations ? root.getAnimations() : [])];
    const finite = all.filter((a) => a.effect?.getComputedTiming().endTime !== Infinity);
    return Promise.allSettled(finite.map((a) => a.finished));
  });
}

// The visitor types `text` and presses Enter; waits until the widget shows it sent.
export async function send(page, text) {
  await part(page, 'input').fill(text);
  await part(page, 'input').press('Enter');
  await message(page, 'visitor', text, 'sent').waitFor();
}

// The widget's state in the page's localStorage (`palaver:<siteKey>`).
export async function stored(page) {
  const raw = await page.evaluate((k) => localStorage.getItem(k), `palaver:${env.siteKey}`);
  check(raw, `localStorage has no palaver:${env.siteKey}`);
  const state = JSON.parse(raw);
  check(typeof state.conversationId === 'string', `no conversationId in stored state ${raw}`);
  check(typeof state.visitorToken === 'string', `no visitorToken in stored state ${raw}`);
  return state;
}

// A team API call with the admin key; fails on any non-2xx answer.
export async function team(method, path, body) {
  const response = await fetch(`${env.palaver}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${env.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  check(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Moss writes `text` in conversation `id`.
export function agentSays(id, text) {
  return team('POST', `/conversations/${id}/messages`, { agentId: env.agentId, text });
}

export async function screenshot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.mouse.move(1, 1); // no hover effect left from the last click
  await still(part(page, 'bubble'));
  await page.screenshot({ path: join(env.screenshots, `${name}.png`) });
}

// The values the Rust test checks; printed as the last RESULT line.
export function result(values) {
  console.log(`RESULT ${JSON.stringify(values)}`);
}

// ---- The console (/admin), for the console_*.mjs scripts (tests/api/browser/console.rs) ----

// A variable the console test sets for its script (RECEIVER_URL, AGENT_EMAIL, …).
export function setting(name) {
  return need(name);
}

// Polls `probe` every 50 ms until it returns a truthy value (returned), failing after the step
// limit with `what` and the last value. Only for what the server does on its own time
// (delivery outcomes), never instead of a page's own auto-waiting locators.
export async function until(what, probe) {
  const deadline = Date.now() + STEP_TIMEOUT;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A console window: its own context (cookies, storage) at `viewport`. Page lines are echoed
// with `label`; uncaught errors and CSP violations are kept in `errors` (see `clean`).
export async function consoleWindow(browser, label, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ locale: 'en-US', viewport });
  context.setDefaultTimeout(STEP_TIMEOUT);
  // Counters the scenarios read (see `mark`): the console's list loads, and redraws of an open
  // conversation (its reply box replaced), counted in the page as they happen.
  await context.addInitScript(() => {
    window.__palaverListLoads = 0;
    window.__palaverRedraws = 0;
    const fetch = window.fetch;
    window.fetch = function (input, init) {
      if (String(input).startsWith('/api/v1/conversations?status=')) window.__palaverListLoads += 1;
      return fetch.call(this, input, init);
    };
    document.addEventListener('DOMContentLoaded', () => {
      new MutationObserver((changes) => {
        for (const c of changes) {
          for (const n of c.removedNodes) if (n.querySelector?.('[data-test="reply"]')) window.__palaverRedraws += 1;
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    console.log(`[${label} ${m.type()}] ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => {
    console.log(`[${label} page error] ${e.message}`);
    errors.push(e.message);
  });
  page.on('requestfailed', (r) => {
    if (!r.url().includes('/events')) console.log(`[${label} request failed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  onFailure.push(async () => {
    const toasts = await page.locator('[data-toasts]').allInnerTexts().catch(() => []);
    console.error(`[${label}] at ${page.url()}; toasts: ${JSON.stringify(toasts)}`);
    mkdirSync(env.screenshots, { recursive: true });
    const file = join(env.screenshots, `failed-${basename(process.argv[1], '.mjs')}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
    console.error(`[${label}] screenshot: ${file}`);
  });
  return { context, page, errors, label };
}

// Fails if a window saw an uncaught script error or a CSP violation.
export function clean(...windows) {
  for (const w of windows) check(w.errors.length === 0, `${w.label}: script errors ${JSON.stringify(w.errors)}`);
}

// An admin signs in through the form with the team's API key, from /admin (no session yet).
export async function signInAdmin(page) {
  await page.goto(`${env.palaver}/admin`);
  await page.waitForURL(/\/admin\/sign-in/);
  await page.getByRole('link', { name: "Sign in with the team's API key" }).click();
  await page.locator('#api_key').fill(env.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/conversations/);
}

// An agent signs in with their profile email and console password.
export async function signInAgent(page, email, password) {
  await page.goto(`${env.palaver}/admin/sign-in`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/conversations/);
}

// A `data-test` locator.
export function t(page, name) {
  return page.locator(`[data-test="${name}"]`);
}

// The console's conversation entries in group `status` ('waiting' | 'open' | 'ended').
export function inbox(page, status, text) {
  const rows = page.locator(`[data-test="list-${status}"] [data-test="conversation"]`);
  return text ? rows.filter({ hasText: text }) : rows;
}

// The open conversation's transcript messages from `from` ('visitor' | 'agent') holding `text`.
export function said(page, from, text) {
  return page.locator(`[data-test="transcript"] [data-test="message"][data-from="${from}"]`).filter({ hasText: text });
}

// Awaits the console's live stream being connected.
export async function connected(page) {
  await page.locator('[data-test="live"].on').waitFor();
}

// The agent types `text` in the reply box and presses Enter.
export async function reply(page, text) {
  await t(page, 'reply').fill(text);
  await t(page, 'reply').press('Enter');
}

// Marks the document, to prove later that it was not reloaded and that the console neither read
// its lists again nor redrew the open conversation since (`notReloaded`).
export async function mark(page) {
  await page.evaluate(() => {
    window.__palaverTestMark = { lists: window.__palaverListLoads, redraws: window.__palaverRedraws };
  });
}

// Checked right after a change that arrived by the live stream, this is exact: the stream's
// listeners run in the same task as the change the scenario waited for.
export async function notReloaded(page, label, after = 'the last change') {
  const state = await page.evaluate(() => ({ mark: window.__palaverTestMark, lists: window.__palaverListLoads, redraws: window.__palaverRedraws }));
  check(state.mark, `${label}: the page was reloaded (after ${after})`);
  check(state.lists === state.mark.lists,
    `${label}: after ${after} the console read its lists again (${state.lists - state.mark.lists} more loads), as after a reconnection`);
  check(state.redraws === state.mark.redraws,
    `${label}: after ${after} the open conversation was redrawn (what was typed in its reply box is lost)`);
}

// A visitor through the visitor API: starts with `name` and a first message.
export async function visitorStarts(name, text, identity = {}) {
  const response = await fetch(`${env.palaver}/api/v1/visitor/conversations`, {
    method: 'POST',
    headers: { 'x-site-key': env.siteKey, 'content-type': 'application/json' },
    body: JSON.stringify({ identity: { name, ...identity }, message: text }),
  });
  const body = await response.json();
  check(response.status === 201, `visitor start: ${response.status} ${JSON.stringify(body)}`);
  return { id: body.conversationId, token: body.visitorToken };
}

// That visitor writes again.
export async function visitorWrites(visitor, text) {
  const response = await fetch(`${env.palaver}/api/v1/visitor/conversations/${visitor.id}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${visitor.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  check(response.status === 201, `visitor message: ${response.status} ${await response.text()}`);
}

// A full-page screenshot of a console page as `console-<name>.png`, once its fonts are in and
// the mouse is off every control.
export async function pageShot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: join(env.screenshots, `console-${name}.png`), fullPage: true });
}
