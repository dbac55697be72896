// Two console windows on one conversation, neither ever reloaded: Moss (an agent, signed in with
// his password) and an admin acting as Roy. A visitor (the visitor API) writes: both lists show
// it live with an unread count; Moss opens it, the admin's count grows with the next message;
// Moss joins and answers, the admin sees it move to Open and the answer; the admin opens it and
// ends it as Roy, Moss sees it end. The Rust test checks the webhooks' agents.
import {
  check, clean, connected, consoleWindow, inbox, mark, notReloaded, reply, result, run, said, setting,
  signInAdmin, signInAgent, t, visitorStarts, visitorWrites,
} from './lib.mjs';

const FIRST = 'Hi! Do you have any doc to your API?';
const ANSWER = 'Yes! Go to <http://developer.talkus.io/>';
// As the console shows it: Slack's `<url>` becomes a link whose text is the URL.
const SHOWN = 'Yes! Go to http://developer.talkus.io/';

// The unread badge of the conversation entry `row` ('' when there is none).
async function badge(row) {
  const b = row.locator('[data-test="unread"]');
  return (await b.count()) ? (await b.innerText()).trim() : '';
}

await run(async (browser) => {
  const moss = await consoleWindow(browser, 'moss');
  const m = moss.page;
  await signInAgent(m, setting('AGENT_EMAIL'), setting('AGENT_PASSWORD'));
  const admin = await consoleWindow(browser, 'admin');
  const a = admin.page;
  await signInAdmin(a);
  await t(a, 'act-as').locator(`option[value="${setting('ROY_ID')}"]`).waitFor({ state: 'attached' });
  await t(a, 'act-as').selectOption(setting('ROY_ID'));
  await connected(m);
  await connected(a);
  await mark(m);
  await mark(a);
  for (const p of [m, a]) await t(p, 'list-waiting').filter({ hasText: 'Nobody is waiting.' }).waitFor();

  // Scarlet writes: both lists show her, with one unread message.
  const scarlet = await visitorStarts('Scarlet', FIRST, { email: 'scar@let.com' });
  for (const p of [m, a]) {
    const row = inbox(p, 'waiting', 'Scarlet');
    await row.filter({ hasText: FIRST }).waitFor();
    await row.locator('[data-test="unread"]').filter({ hasText: /^1$/ }).waitFor();
  }

  // Moss opens it (his count goes); her next message shows in his transcript, and counts in
  // the admin's list.
  await inbox(m, 'waiting', 'Scarlet').click();
  await said(m, 'visitor', FIRST).waitFor();
  check(await badge(inbox(m, 'waiting', 'Scarlet')) === '', 'the open conversation must not count as unread');
  await visitorWrites(scarlet, 'Are you there?');
  await said(m, 'visitor', 'Are you there?').waitFor();
  await inbox(a, 'waiting', 'Scarlet').locator('[data-test="unread"]').filter({ hasText: /^2$/ }).waitFor();
  check(await badge(inbox(m, 'waiting', 'Scarlet')) === '', 'Moss reads it: no unread count in his list');

  // Moss joins and answers: the admin's list moves her to Open and shows the answer's preview.
  await t(m, 'join').click();
  await t(m, 'thread-status').filter({ hasText: 'open' }).waitFor();
  await inbox(m, 'open', 'Scarlet').waitFor();
  await inbox(a, 'open', 'Scarlet').waitFor();
  await notReloaded(m, 'moss', 'his join');
  await notReloaded(a, 'admin', 'Moss\'s join');
  await t(a, 'list-waiting').filter({ hasText: 'Nobody is waiting.' }).waitFor();
  await reply(m, ANSWER);
  await said(m, 'agent', SHOWN).waitFor();
  await inbox(a, 'open', 'Scarlet').filter({ hasText: 'Yes! Go to' }).waitFor();
  check(await badge(inbox(a, 'open', 'Scarlet')) === '2', 'an agent\'s answer is not unread');

  // The admin opens it: the count goes; status, agent and the whole transcript are there.
  await inbox(a, 'open', 'Scarlet').click();
  await t(a, 'thread-status').filter({ hasText: 'open' }).waitFor();
  await t(a, 'thread-agent').filter({ hasText: 'Moss' }).waitFor();
  for (const text of [FIRST, 'Are you there?']) await said(a, 'visitor', text).waitFor();
  await said(a, 'agent', SHOWN).waitFor();
  check(await badge(inbox(a, 'open', 'Scarlet')) === '', 'opened: no unread count');

  // Both watch: her thanks shows in both at once, unread in neither.
  await visitorWrites(scarlet, 'Thanks!');
  for (const p of [m, a]) await said(p, 'visitor', 'Thanks!').waitFor();
  for (const p of [m, a]) {
    check(await badge(inbox(p, 'open', 'Scarlet')) === '', 'a conversation on screen must not count unread');
    check(await said(p, 'agent', SHOWN).count() === 1, 'the answer must show once');
  }

  // The admin ends it as Roy; Moss sees it end.
  await t(a, 'end').click();
  await t(a, 'thread-status').filter({ hasText: 'ended' }).waitFor();
  await t(m, 'thread-status').filter({ hasText: 'ended' }).waitFor();
  await m.locator('.thread-notice').filter({ hasText: 'The conversation ended' }).waitFor();
  check(!(await t(m, 'reply').isVisible()), 'an ended conversation has no reply box');
  check(!(await t(m, 'join').isVisible()) && !(await t(m, 'end').isVisible()), 'no Join or End once ended');
  for (const p of [m, a]) await inbox(p, 'ended', 'Scarlet').waitFor();
  await t(m, 'thread-agent').filter({ hasText: 'Roy' }).waitFor();

  await notReloaded(m, 'moss', 'the end');
  await notReloaded(a, 'admin', 'the end');
  clean(moss, admin);
  result({ conversationId: scarlet.id });
});
