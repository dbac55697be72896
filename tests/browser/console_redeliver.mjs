// A receiver answering 500: the admin sends a test event from the webhook's page, watches it
// fail for good in the delivery log (attempts, last status, health), reads every attempt on
// the delivery's page, then — the receiver answering 200 again — redelivers it and sees it
// delivered, there and in the log. The Rust test checks what the receiver got.
import { check, clean, consoleWindow, result, run, setting, signInAdmin, t } from './lib.mjs';

// The cells of a delivery log row.
function cells(row) {
  return row.evaluate((tr) => ({
    event: tr.querySelector('[data-label="Event"]').innerText.trim(),
    status: tr.getAttribute('data-status'),
    attempts: tr.querySelector('[data-label="Attempts"]').innerText.trim(),
    next: tr.querySelector('[data-label="Next retry"]').innerText.trim(),
    code: tr.querySelector('[data-label="Last status"]').innerText.trim(),
    channel: tr.querySelector('[data-label="Channel"]').innerText.trim(),
  }));
}

await run(async (browser) => {
  const admin = await consoleWindow(browser, 'admin');
  const a = admin.page;
  await signInAdmin(a);
  await a.getByRole('link', { name: 'Integration' }).first().click();
  await t(a, 'webhook-row').filter({ hasText: 'CRM sync' }).locator('[data-test="webhook-link"]').click();
  await a.waitForURL(new RegExp(`/admin/integration/webhooks/${setting('WEBHOOK_ID')}$`));
  await t(a, 'deliveries-empty').waitFor();

  // The test event fails three times: the log shows it failed, with its attempts and the 500.
  await t(a, 'send-test').click();
  await t(a, 'delivery-row').first().waitFor();
  const failed = a.locator('[data-test="delivery-row"][data-status="failed"]');
  await failed.waitFor();
  const row = await cells(failed);
  check(row.event === 'messageAgent', `event ${JSON.stringify(row)}`);
  check(row.attempts === '3', `three attempts expected: ${JSON.stringify(row)}`);
  check(row.code === '500', `last status 500 expected: ${JSON.stringify(row)}`);
  check(row.next === '—', `no next retry after the last: ${JSON.stringify(row)}`);
  check(/test event/i.test(row.channel), `a test event has no channel: ${JSON.stringify(row)}`);
  await t(a, 'health').filter({ hasText: '1 failed' }).filter({ hasText: '3 failed attempts' }).waitFor();
  await t(a, 'health-last-error').waitFor();

  // The status filter.
  await t(a, 'filter-delivered').click();
  await t(a, 'deliveries-empty').waitFor();
  await t(a, 'filter-failed').click();
  await failed.waitFor();
  await t(a, 'filter-all').click();
  await failed.waitFor();

  // The delivery's page: every attempt with the receiver's answer, the payload.
  await failed.locator('[data-test="delivery-link"]').click();
  await a.waitForURL(/\/deliveries\/[^/]+$/);
  const deliveryId = (await t(a, 'delivery-id').innerText()).trim();
  await t(a, 'delivery-status').filter({ hasText: 'Failed' }).waitFor();
  await t(a, 'delivery-attempts').filter({ hasText: /^3$/ }).waitFor();
  const attempts = t(a, 'attempt-row');
  check(await attempts.count() === 3, `three attempts listed, got ${await attempts.count()}`);
  for (const text of await attempts.allInnerTexts()) {
    check(text.includes('500') && text.includes('receiver says 500'), `an attempt without the 500 answer: ${text}`);
  }
  const payload = await t(a, 'payload').innerText();
  check(JSON.parse(payload)[0].event === 'messageAgent', `the payload is ${payload.slice(0, 200)}`);

  // The receiver answers 200 now: "Redeliver", and the page follows it to delivered.
  await t(a, 'redeliver').filter({ hasText: 'Redeliver' }).click();
  await t(a, 'delivery-status').filter({ hasText: 'Delivered' }).waitFor();
  await t(a, 'delivery-attempts').filter({ hasText: /^4$/ }).waitFor();
  await attempts.nth(3).waitFor();
  const attemptsShown = await attempts.evaluateAll((lis) => lis.map((li) => li.querySelector('.code').innerText.trim()));

  // Back on the webhook's page, the log and the health line say so.
  await a.locator('.crumbs a.crumb-url').click();
  const delivered = a.locator(`[data-test="delivery-row"][data-delivery-id="${deliveryId}"][data-status="delivered"]`);
  await delivered.waitFor();
  const after = await cells(delivered);
  check(after.attempts === '4' && after.code === '200', `after the redelivery: ${JSON.stringify(after)}`);
  await t(a, 'health').filter({ hasText: '1 delivered, 0 failed' }).waitFor();

  clean(admin);
  result({ deliveryId, attemptsShown });
});
