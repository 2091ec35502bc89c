// The phone view: a 390×844 touch screen, /m task cards, accepting by tapping,
// and the menu toggle that opens the sidebar.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, launchBrowser, loginAs, startServer, tid, unique, waitForState } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ tasks: 0 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

test('officer on a phone: /m card, tap to accept, menu toggle', async (t) => {
  const title = `手机测试任务 ${unique('PHONE')}`;
  const command = await loginAs(browser, server.baseURL, 's1.command');
  const taskId = await createTask(command.page, { title, assignee: 's1.officer' });
  await waitForState(command.page, 'dispatched');
  await command.context.close();

  const { context, page } = await loginAs(browser, server.baseURL, 's1.officer', PHONE);

  await t.test('the dispatched task is a card on /m', async () => {
    await page.goto('/m');
    const card = page.locator(tid('my-task'), { hasText: title });
    await card.waitFor();
    const box = await card.boundingBox();
    assert.ok(box.width <= 390, `card fits the screen (width ${box.width})`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling on /m (overflow ${overflow}px)`);
  });

  await t.test('tap through to the task and accept it', async () => {
    await page.locator(tid('my-task'), { hasText: title }).tap();
    await page.waitForURL(new RegExp(`/tasks/${taskId}$`));
    await waitForState(page, 'dispatched');
    await page.locator(tid('open-accept')).tap();
    await page.locator(tid('submit-accept')).tap();
    await waitForState(page, 'accepted');
    await page.locator(tid('action-start')).waitFor();
  });

  await t.test('the menu toggle opens the sidebar', async () => {
    // The toggle has no data-testid (see report); it is the layout's only
    // [data-toggle-nav] control.
    const nav = page.locator(tid('nav-tasks'));
    assert.equal(await nav.isVisible(), false, 'sidebar is hidden on a phone until toggled');
    await page.locator('button.menu-toggle[data-toggle-nav]').tap();
    await nav.waitFor({ state: 'visible' });
    await nav.tap();
    await page.waitForURL(/\/tasks(\?|$)/);
    await page.locator(tid('task-table')).waitFor({ state: 'attached' });
  });

  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await context.close();
});
