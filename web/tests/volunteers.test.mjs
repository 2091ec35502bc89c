// 群防群治 on a phone: a station leader adds a volunteer (shown masked; the
// full contact only on request), sets up a school-gate post (护学岗), signs
// the volunteer up for a shift and takes them off again — and the post page
// fits the screen.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, loginAs, startServer, tid } from './harness.mjs';

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

test('a leader on a phone: roster, post, sign-up and cancel', async () => {
  const { context, page } = await loginAs(browser, server.baseURL, 's1.leader', PHONE);
  page.on('dialog', (d) => d.accept());

  // the roster: added, masked, revealed on request
  await page.goto('/volunteers');
  await page.locator(`${tid('volunteer-create')} summary`).tap();
  await page.locator(tid('volunteer-name')).fill('王小红');
  await page.locator(tid('volunteer-phone')).fill('13812345678');
  await page.locator(tid('volunteer-organisation')).fill('红马甲');
  await page.locator(tid('volunteer-save')).tap();
  const row = page.locator(tid('volunteer-row')).filter({ hasText: '王**' });
  await row.waitFor();
  assert.match(await row.innerText(), /138\*\*\*\*5678/);
  assert.doesNotMatch(await page.content(), /13812345678/);
  await row.locator(tid('volunteer-reveal')).tap();
  await page.locator(tid('contact-full')).filter({ hasText: '王小红' }).waitFor();

  // a school-gate post every day of the week, one volunteer a shift
  await page.goto('/volunteers/posts');
  await page.locator(`${tid('post-editor')} summary`).tap();
  await page.locator(tid('post-name')).fill('滨江小学南门护学岗');
  await page.locator(tid('post-officer')).fill('s1.officer');
  await page.locator(tid('post-weekdays')).fill('1,2,3,4,5,6,7');
  await page.locator(tid('post-slots')).fill('07:20-08:00');
  await page.locator(tid('post-capacity')).fill('1');
  await page.locator(tid('post-workdays-only')).uncheck();
  await Promise.all([page.waitForURL(/\/volunteers\/posts\/\d+$/), page.locator(tid('post-save')).tap()]);

  // the first shift still to come: sign up, full; cancel, free again
  const card = page.locator(tid('shift-card')).filter({ has: page.locator(tid('signup-form')) }).first();
  await card.waitFor();
  const shiftId = await card.getAttribute('data-id');
  const same = page.locator(`${tid('shift-card')}[data-id="${shiftId}"]`);
  const option = await card.locator(`${tid('signup-volunteer')} option`).filter({ hasText: '王**' }).getAttribute('value');
  await card.locator(tid('signup-volunteer')).selectOption(option);
  await card.locator(tid('signup-save')).tap();
  await same.locator(tid('shift-full')).waitFor();
  assert.equal((await same.locator(tid('shift-count')).innerText()).trim(), '1/1');
  assert.match(await same.locator(tid('signup-row')).innerText(), /王\*\*/);
  await same.locator(tid('signup-cancel')).tap();
  await same.locator(tid('signup-form')).waitFor();
  assert.equal((await same.locator(tid('shift-count')).innerText()).trim(), '0/1');

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the post page fits a phone (overflow ${overflow}px)`);
  await context.close();
});
