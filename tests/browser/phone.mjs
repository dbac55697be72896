// On a 390×844 phone, the open widget fills the screen.
import { agentSays, check, message, openHost, openPanel, part, run, screenshot, send, stored, visitor } from './lib.mjs';

await run(async (browser) => {
  const viewport = { width: 390, height: 844 };
  const { page } = await visitor(browser, { viewport, deviceScaleFactor: 2 });
  await openHost(page);
  await openPanel(page);
  const box = await part(page, 'panel').boundingBox();
  const near = (a, b) => Math.abs(a - b) <= 1;
  check(near(box.x, 0) && near(box.y, 0) && near(box.width, viewport.width) && near(box.height, viewport.height),
    `the open panel must fill the ${viewport.width}×${viewport.height} screen, got ${JSON.stringify(box)}`);
  const input = await part(page, 'input').boundingBox();
  check(input.y + input.height <= viewport.height && input.x >= 0 && input.x + input.width <= viewport.width,
    `the composer must be on screen: ${JSON.stringify(input)}`);

  await send(page, 'Is the watering can in stock?');
  const { conversationId } = await stored(page);
  await agentSays(conversationId, 'It is! It ships today if you order before 4 pm.');
  await message(page, 'agent', 'It ships today').waitFor();
  await screenshot(page, 'phone-open');
});
