// A reload continues the conversation with its history; a message typed offline shows as
// pending and goes out once when the network is back (the Rust test counts the webhooks).
import { agentSays, bubbleSays, check, message, openHost, openPanel, part, result, run, send, stored, visitor } from './lib.mjs';

const BEFORE = 'Do you ship to Norway?';
const OFFLINE = 'Sent from a tunnel, with no network';
const AFTER = 'We do, and your tunnel message arrived.';

await run(async (browser) => {
  const { context, page } = await visitor(browser);
  await openHost(page);
  await openPanel(page);
  await send(page, BEFORE);
  const first = await stored(page);

  await page.reload();
  await part(page, 'bubble').waitFor({ state: 'visible' });
  await page.evaluate(() => window.palaver('open'));
  await part(page, 'panel').waitFor({ state: 'visible' });
  check(await bubbleSays(page, 'Close chat'), 'palaver("open") must open the panel');
  await message(page, 'visitor', BEFORE, 'sent').waitFor();
  const again = await stored(page);
  check(again.conversationId === first.conversationId,
    `the reload must keep conversation ${first.conversationId}, has ${again.conversationId}`);

  await context.setOffline(true);
  await part(page, 'offline').waitFor({ state: 'visible' });
  await part(page, 'input').fill(OFFLINE);
  await part(page, 'input').press('Enter');
  await message(page, 'visitor', OFFLINE, 'pending').waitFor();
  await context.setOffline(false);
  await message(page, 'visitor', OFFLINE, 'sent').waitFor();
  await part(page, 'offline').waitFor({ state: 'hidden' });
  check(await message(page, 'visitor', OFFLINE).count() === 1, 'the offline message must show once');

  // The stream came back too: the agent's answer appears live.
  await agentSays(first.conversationId, AFTER);
  await message(page, 'agent', AFTER).waitFor();
  check(await message(page, 'visitor', OFFLINE).count() === 1, 'the offline message must still show once');
  result({ conversationId: first.conversationId, offlineText: OFFLINE, agentText: AFTER });
});
