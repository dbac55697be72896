// Every console page as a customer sees it, at 1280×800 and at 390×844 (a phone), written to
// target/screenshots/console-<page>-<width>.png (whole pages): sign-in, the conversations with
// one open, the Integration list, a webhook, a failed delivery, the agents. The Rust test made
// the data (three conversations, two webhooks of which one fails, three agents).
import {
  check, clean, connected, consoleWindow, env, inbox, pageShot, run, said, setting, signInAdmin, t, visitorWrites,
} from './lib.mjs';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

await run(async (browser) => {
  for (const viewport of SIZES) {
    const w = viewport.width;
    const win = await consoleWindow(browser, `admin-${w}`, viewport);
    const p = win.page;

    await p.goto(`${env.palaver}/admin/sign-in`);
    await pageShot(p, `sign-in-agent-${w}`);
    await signInAdmin(p);
    const anon = await consoleWindow(browser, `anon-${w}`, viewport);
    await anon.page.goto(`${env.palaver}/admin/sign-in?as=admin`);
    await pageShot(anon.page, `sign-in-${w}`);
    await anon.context.close();

    // The conversations: the lists, then Scarlet's conversation open; Douglas writes meanwhile.
    await connected(p);
    // Scarlet gave a phone: her visitorName is the phone number, as in the seed.
    const scarlet = inbox(p, 'open').and(p.locator(`[data-id="${setting('CONVERSATION_ID')}"]`));
    await scarlet.waitFor();
    await inbox(p, 'ended', 'Jen Barber').waitFor();
    await visitorWrites({ id: setting('DOUGLAS_ID'), token: setting('DOUGLAS_TOKEN') }, `Anyone there? (${w})`);
    await inbox(p, 'waiting', 'Douglas').locator('[data-test="unread"]').waitFor();
    if (w < 600) await pageShot(p, `conversations-list-${w}`);
    await scarlet.click();
    await said(p, 'visitor', 'Is there a sandbox too?').waitFor();
    const email = p.locator('[data-test="identity"] [data-field="email"]').filter({ hasText: 'scar@let.com' });
    await email.waitFor({ state: w >= 1100 ? 'visible' : 'attached' });
    await pageShot(p, `conversations-${w}`);

    // The Integration list.
    await p.goto(`${env.palaver}/admin/integration`);
    await t(p, 'webhook-row').nth(1).waitFor();
    await pageShot(p, `integration-${w}`);

    // The working webhook: health and its log.
    await p.goto(`${env.palaver}/admin/integration/webhooks/${setting('WEBHOOK_ID')}`);
    await t(p, 'delivery-row').first().waitFor();
    await t(p, 'health').filter({ hasText: 'delivered' }).waitFor();
    await pageShot(p, `webhook-${w}`);

    // The failing one, and one of its failed deliveries.
    await p.goto(`${env.palaver}/admin/integration/webhooks/${setting('FAILING_WEBHOOK_ID')}`);
    await p.locator('[data-test="delivery-row"][data-status="failed"]').first().waitFor();
    await t(p, 'health-last-error').waitFor();
    await pageShot(p, `webhook-failing-${w}`);
    await p.goto(`${env.palaver}/admin/integration/webhooks/${setting('FAILING_WEBHOOK_ID')}/deliveries/${setting('FAILED_DELIVERY_ID')}`);
    await t(p, 'attempt-row').nth(2).waitFor();
    await pageShot(p, `delivery-${w}`);

    // The agents.
    await p.goto(`${env.palaver}/admin/agents`);
    await t(p, 'agent-row').nth(2).waitFor();
    check(await t(p, 'agent-row').count() === 3, 'three agents expected');
    await pageShot(p, `agents-${w}`);

    clean(win);
    await win.context.close();
  }
});
