// With allowedOrigins set to another site, the host page gets no bubble (the widget warns in the
// console) and cannot start a conversation; once its origin is allowed, the bubble appears.
import { check, env, part, run, team, visitor } from './lib.mjs';

await run(async (browser) => {
  const settings = await team('PATCH', '/team/widget', { allowedOrigins: ['https://shop.example'] });
  check(JSON.stringify(settings.allowedOrigins) === '["https://shop.example"]',
    `PATCH /team/widget answered ${JSON.stringify(settings)}`);

  const { page } = await visitor(browser);
  const answers = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/v1/visitor/widget') && r.request().method() === 'GET') answers.push(r.status());
  });
  const warned = page.waitForEvent('console', (m) => m.type() === 'warning');
  await page.goto(env.hostUrl);
  // Whichever comes first: the widget's warning, or a bubble it must not show.
  const shown = part(page, 'bubble').waitFor({ state: 'visible' }).then(
    () => { throw new Error('a refused origin got the bubble'); },
    () => new Promise(() => {}),
  );
  const warning = await Promise.race([warned, shown]);
  check(answers.every((s) => s === 403), `GET /visitor/widget from a refused origin answered ${answers}`);
  console.log(`the widget warned: ${warning.text()}`);
  // The warning comes after the widget handled the refusal: nothing may show from here on.
  check(await part(page, 'bubble').count() === 0 || !(await part(page, 'bubble').isVisible()),
    'a refused origin must show no bubble');
  await page.evaluate(() => window.palaver && window.palaver('open'));
  check(await part(page, 'panel').count() === 0 || !(await part(page, 'panel').isVisible()),
    'palaver("open") on a refused origin must show no panel');

  const origin = new URL(env.hostUrl).origin;
  await team('PATCH', '/team/widget', { allowedOrigins: ['https://shop.example', origin] });
  await page.reload();
  await part(page, 'bubble').waitFor({ state: 'visible' });
});
