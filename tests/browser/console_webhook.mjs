// The seed's story in the console: an admin signs in with the API key and adds a webhook for the
// receiver on the Integration page; Scarlet writes from the widget on the demo page; Moss,
// signed in with his email and password, joins, answers and types `.end`; the webhook's delivery
// log then shows the six events delivered. The Rust test checks the receiver's requests.
import {
  check, clean, connected, consoleWindow, env, inbox, mark, message, notReloaded, openHost, openPanel, part, reply, result, run, said,
  send, setting, signInAdmin, signInAgent, t, team, until, visitor,
} from './lib.mjs';

const FIRST = 'Hi! Do you have any doc to your API?';
const ANSWER = 'Yes! Go to <http://developer.talkus.io/>';
// As the console shows it: Slack's `<url>` becomes a link whose text is the URL.
const SHOWN = 'Yes! Go to http://developer.talkus.io/';
const EVENTS = ['start', 'open', 'end', 'email', 'messageVisitor', 'messageAgent'];

await run(async (browser) => {
  // The admin adds the webhook.
  const admin = await consoleWindow(browser, 'admin');
  const a = admin.page;
  await signInAdmin(a);
  await a.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Integration' }).click();
  await a.waitForURL(/\/admin\/integration$/);
  await t(a, 'webhooks-empty').waitFor();
  // With no webhook yet, the form is already open.
  await t(a, 'webhook-url').fill(setting('RECEIVER_URL'));
  for (const name of EVENTS) {
    check(await t(a, `event-${name}`).isChecked(), `the ${name} box must be ticked by default`);
  }
  check(await a.locator('input[name="events"]').count() === 6, 'six event boxes expected');
  await t(a, 'webhook-description').fill('Seed receiver');
  // A limit of requests at once; the one per second left empty (none).
  await t(a, 'webhook-max-in-flight').fill('4');
  await t(a, 'add-webhook').click();
  await a.waitForURL(/\/admin\/integration\/webhooks\/[^/#]+$/);
  const webhookId = await a.locator('[data-webhook-page]').getAttribute('data-webhook-id');
  await t(a, 'webhook-title').filter({ hasText: setting('RECEIVER_URL') }).waitFor();
  await t(a, 'webhook-status').filter({ hasText: 'Enabled' }).waitFor();
  await t(a, 'deliveries-empty').waitFor();
  await t(a, 'reveal-secret').click();
  await t(a, 'secret-value').filter({ hasText: /^whsec_[A-Za-z0-9+/=_-]+$/ }).waitFor();
  const secret = (await t(a, 'secret-value').innerText()).trim();

  // Moss signs in; the console is live before Scarlet writes.
  const agent = await consoleWindow(browser, 'moss');
  const m = agent.page;
  await signInAgent(m, setting('AGENT_EMAIL'), setting('AGENT_PASSWORD'));
  await connected(m);
  await mark(m);
  check(await t(m, 'act-as').count() === 0, 'an agent acts as itself: no "Act as" choice');

  // Scarlet, on the demo page's widget: her name, her email, the seed's first message.
  const { page: v } = await visitor(browser, { viewport: { width: 1280, height: 800 } });
  await openHost(v);
  await openPanel(v);
  await part(v, 'name').fill('Scarlet');
  await part(v, 'email').fill('scar@let.com');
  await send(v, FIRST);

  // Moss sees her arrive live, opens the conversation, reads who she is, joins, answers, ends.
  const row = inbox(m, 'waiting', 'Scarlet');
  await row.waitFor();
  await row.click();
  await said(m, 'visitor', FIRST).waitFor();
  await t(m, 'thread-status').filter({ hasText: 'waiting' }).waitFor();
  await m.locator('[data-test="identity"] [data-field="email"]').filter({ hasText: 'scar@let.com' }).waitFor();
  const title = await m.locator('[data-test="identity"] [data-field="title"]').innerText();
  check(title === env.hostTitle, `the identity's page title is ${JSON.stringify(title)}`);
  const location = await m.locator('[data-test="identity"] [data-field="location"]').innerText();
  check(location.startsWith(env.hostUrl), `the identity's page is ${JSON.stringify(location)}`);
  await t(m, 'join').click();
  await t(m, 'thread-status').filter({ hasText: 'open' }).waitFor();
  await t(m, 'thread-agent').filter({ hasText: 'Moss' }).waitFor();
  // The list moves her to Open on the stream's `open` event: the console carries on, as it was.
  await inbox(m, 'open', 'Scarlet').waitFor();
  await notReloaded(m, 'moss', 'his join');
  await reply(m, ANSWER);
  await said(m, 'agent', SHOWN).waitFor();
  check(await t(m, 'reply').inputValue() === '', 'the reply box must be emptied after sending');
  await message(v, 'agent', 'Yes! Go to').waitFor();
  await reply(m, '.end');
  await t(m, 'thread-status').filter({ hasText: 'ended' }).waitFor();
  await inbox(m, 'ended', 'Scarlet').waitFor();
  check(await said(m, 'agent', '.end').count() === 0, '`.end` must not show as a message');
  check(!(await t(m, 'reply').isVisible()), 'an ended conversation has no reply box');
  const conversationId = await inbox(m, 'ended', 'Scarlet').getAttribute('data-id');

  // The delivery log: once the server has recorded the six outcomes, the page shows them.
  await until('six delivered deliveries', async () => {
    const log = await team('GET', `/webhooks/${webhookId}/deliveries`);
    return log.data.length === 6 && log.data.every((d) => d.status === 'delivered');
  });
  await a.reload();
  const rows = t(a, 'delivery-row');
  await rows.nth(5).waitFor();
  check(await rows.count() === 6, `six rows expected, got ${await rows.count()}`);
  const shown = await rows.evaluateAll((trs) => trs.map((tr) => ({
    event: tr.querySelector('[data-label="Event"]').innerText.trim(),
    status: tr.getAttribute('data-status'),
    attempts: tr.querySelector('[data-label="Attempts"]').innerText.trim(),
    code: tr.querySelector('[data-label="Last status"]').innerText.trim(),
    channel: tr.querySelector('[data-label="Channel"]').innerText.trim(),
  })));
  const channel = shown[0].channel;
  check(shown.every((r) => r.channel === channel && r.channel.length > 0), `one channel expected: ${JSON.stringify(shown)}`);
  await t(a, 'health').filter({ hasText: '6 deliveries' }).filter({ hasText: '6 delivered, 0 failed' }).waitFor();

  // The list page shows the webhook too.
  await a.getByRole('link', { name: 'Integration', exact: true }).first().click();
  const listed = t(a, 'webhook-row');
  await listed.filter({ hasText: setting('RECEIVER_URL') }).filter({ hasText: 'All six events' }).filter({ hasText: 'Enabled' }).waitFor();

  await notReloaded(m, 'moss', 'the end');
  clean(admin, agent);
  result({ webhookId, secret, conversationId, rows: shown });
});
