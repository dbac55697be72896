// With the panel closed, an agent's message shows as 1 unread on the bubble; opening clears it.
import { agentSays, check, message, openHost, openPanel, part, run, send, stored, visitor } from './lib.mjs';

await run(async (browser) => {
  const { page } = await visitor(browser);
  await openHost(page);
  await openPanel(page);
  await send(page, 'Hello, anyone there?');
  const { conversationId } = await stored(page);
  const bubble = part(page, 'bubble');
  await bubble.click();
  await part(page, 'panel').waitFor({ state: 'hidden' });
  const unread = part(page, 'unread');
  check(await unread.count() === 0 || !(await unread.isVisible()), 'the unread badge shows before any agent message');

  await agentSays(conversationId, 'Hello! Moss here.');
  await unread.waitFor({ state: 'visible' });
  const count = (await unread.innerText()).trim();
  check(count === '1', `the unread badge must say 1, says ${JSON.stringify(count)}`);

  await openPanel(page);
  await message(page, 'agent', 'Moss here').waitFor();
  await unread.waitFor({ state: 'hidden' });
});
