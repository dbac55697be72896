// A page with a 3,000-character URL and a 1,000-character title, and a page script that gives a
// 300-character name and a phone that is not one: the widget makes its identity fit the server's
// rules, so that the conversation starts. The Rust test checks the identity in the webhooks.
import { env, openPanel, part, result, run, send, stored, visitor } from './lib.mjs';

await run(async (browser) => {
  const { page } = await visitor(browser, { viewport: { width: 1280, height: 800 } });
  const url = `${env.hostUrl}?q=${'x'.repeat(3000)}#${'f'.repeat(100)}`;
  await page.goto(url);
  await part(page, 'bubble').waitFor({ state: 'visible' });
  await page.evaluate(() => {
    document.title = 'T'.repeat(1000);
    window.palaver('identify', { name: 'N'.repeat(300), phone: 'call me maybe' });
  });
  await openPanel(page);
  await send(page, 'From a very long page');
  const { conversationId } = await stored(page);
  result({ conversationId });
});
