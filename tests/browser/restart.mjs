// After the agent ends the conversation, the widget says so and offers a new one; a message
// there starts a new conversation (the Rust test checks the second `start`).
import { check, env, message, openHost, openPanel, part, result, run, send, stored, team, visitor } from './lib.mjs';

const FIRST = 'Can I change my delivery address?';
const SECOND = 'One more question: do you gift-wrap?';

await run(async (browser) => {
  const { page } = await visitor(browser);
  await openHost(page);
  await openPanel(page);
  await send(page, FIRST);
  const first = await stored(page);

  await team('POST', `/conversations/${first.conversationId}/end`, { agentId: env.agentId });
  await part(page, 'notice').filter({ hasText: /ended/i }).first().waitFor();
  const restart = part(page, 'restart');
  await restart.waitFor({ state: 'visible' });
  const label = await restart.innerText();
  check(/start a new conversation/i.test(label), `the restart button says ${JSON.stringify(label)}`);
  await restart.click();
  await part(page, 'input').waitFor({ state: 'visible' });
  await send(page, SECOND);
  // The stored conversation becomes the new one (waited for: it may be written after the render).
  await page.waitForFunction(([key, old]) => JSON.parse(localStorage.getItem(key) || '{}').conversationId !== old,
    [`palaver:${env.siteKey}`, first.conversationId]);
  const second = await stored(page);
  result({ firstId: first.conversationId, secondId: second.conversationId, secondText: SECOND });
});
