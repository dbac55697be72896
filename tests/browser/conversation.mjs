// A visitor's conversation from the host page: intro form, the seed's first message, Moss's
// answer through the team API appearing live with his name. The Rust test checks the webhooks.
import { agentSays, check, env, message, openHost, openPanel, part, result, run, screenshot, send, stored, team, visitor } from './lib.mjs';

const FIRST = 'Hi! Do you have any doc to your API?';
const ANSWER = 'Yes! Go to <http://developer.talkus.io/>';

await run(async (browser) => {
  const { page } = await visitor(browser, { viewport: { width: 1280, height: 800 } });
  await openHost(page);
  await openPanel(page);
  await part(page, 'name').fill('Scarlet');
  await part(page, 'email').fill('scar@let.com');
  await send(page, FIRST);

  const { conversationId } = await stored(page);
  const listed = await team('GET', '/conversations');
  check(listed.data.some((c) => c.id === conversationId),
    `the stored conversation ${conversationId} is not in GET /conversations: ${JSON.stringify(listed)}`);

  await agentSays(conversationId, ANSWER);
  // Matched on its start: the widget may render Slack's <url> form as a link.
  const answer = message(page, 'agent', 'Yes! Go to');
  await answer.waitFor();
  const shown = await answer.locator('[data-part="text"]').innerText();
  check(shown.includes('developer.talkus.io'), `the answer's text is ${JSON.stringify(shown)}`);
  const author = await answer.locator('[data-part="author"]').innerText();
  check(author.includes('Moss'), `the agent's message must name Moss, got ${JSON.stringify(author)}`);
  check((await answer.locator('[data-part="time"]').innerText()).trim() !== '', 'the agent\'s message has no time');
  await part(page, 'notice').filter({ hasText: 'Moss' }).first().waitFor();
  check(await message(page, 'visitor', FIRST).count() === 1, 'the first message must appear once');
  await screenshot(page, 'open');

  const browserSide = await page.evaluate(() => ({ languages: navigator.languages, userAgent: navigator.userAgent }));
  result({ conversationId, ...browserSide, hostUrl: env.hostUrl });
});
