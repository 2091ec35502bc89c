// The duty rhythm and the hazard register in a browser: a station leader
// edits the weekly visit template (八个一 · 每周一走访) and generates; the
// officer finds the new duties on the duty calendar, does one, lists a
// problem found on the visit, turns it into a hazard with one click, and the
// hazard runs found → assigned → rectifying → rectified (photo after) →
// rechecked → closed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { doAction, launchBrowser, loginAs, makePng, startServer, tid, waitForState } from './harness.mjs';

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

/** One step on the hazard page: opens its box, fills, submits, waits for the reload to show `state`. */
async function hazardStep(page, action, state, fill = async () => {}) {
  await page.locator(tid(`open-${action}`)).click();
  await fill(page.locator(tid(`action-${action}`)));
  await page.locator(tid(`submit-${action}`)).click();
  await page.locator(`${tid('hazard-state')}[data-state="${state}"]`).waitFor();
}

test('a leader reschedules the weekly visit; the officer does one and a hazard found on it runs to closed', async () => {
  // the leader edits 每周一走访: Fridays too, at 15:30, and generates
  const leader = await loginAs(browser, server.baseURL, 's1.leader');
  const lp = leader.page;
  await lp.goto('/duty/templates');
  const row = lp.locator(tid('duty-template-row')).filter({ hasText: '每周一走访' }).first();
  await row.locator(tid('tpl-edit')).click();
  const form = lp.locator(tid('duty-template-form'));
  await form.locator(tid('tpl-rrule')).fill('FREQ=WEEKLY;BYDAY=WE,FR');
  await form.locator(tid('tpl-time')).fill('15:30');
  await Promise.all([lp.waitForLoadState('load'), form.locator(tid('tpl-save')).click()]);
  await lp.locator(tid('duty-template-row')).filter({ hasText: 'BYDAY=WE,FR' }).first().waitFor();
  await lp.locator(tid('duty-generate')).click();
  await lp.waitForFunction(() => /\d/.test(document.querySelector('#generated')?.innerText || ''));
  const generated = await lp.locator('#generated').innerText();
  const created = Number((generated.match(/(\d+)/) || [])[1]);
  assert.ok(created > 0, `the generate report: ${generated}`);

  // the officer sees the new duties (15:30) on the calendar — this month or the next
  const officer = await loginAs(browser, server.baseURL, 's1.officer');
  const op = officer.page;
  await op.goto('/duty');
  const entry = op.locator(tid('duty-entry')).filter({ hasText: '15:30' }).filter({ hasText: '每周一走访' });
  if ((await entry.count()) === 0) {
    await Promise.all([op.waitForLoadState('load'), op.locator(tid('duty-next')).click()]);
  }
  await entry.first().waitFor();
  await Promise.all([op.waitForURL(/\/tasks\/\d+$/), entry.first().click()]);
  const taskUrl = op.url();

  // does it: accept, start, feed back what the visit found
  await doAction(op, 'accept', { expectState: 'accepted' });
  await doAction(op, 'start', { expectState: 'in_progress' });
  await op.locator(tid('open-submit_feedback')).click();
  const fb = op.locator(tid('action-submit_feedback'));
  await fb.locator(tid('note-submit_feedback')).fill('走访幸福小区，了解群众安全诉求');
  await fb.locator(tid('report-visited-input')).fill('幸福小区3栋2单元\n幸福小区5栋1单元');
  await fb.locator(tid('report-households-input')).fill('6');
  await fb.locator(tid('report-problems-input')).fill('小区后门河边护栏缺损，无防溺水警示牌');
  await op.locator(tid('submit-submit_feedback')).click();
  await waitForState(op, 'feedback_submitted');
  assert.equal(await op.locator(tid('report-households')).innerText(), '6');

  // one click: the problem becomes a hazard
  await op.locator(tid('problem-type-0')).selectOption('01');
  await Promise.all([op.waitForURL(/\/hazards\/\d+$/), op.locator(tid('to-hazard-0')).click()]);
  const hazardUrl = op.url();
  await op.locator(`${tid('hazard-state')}[data-state="found"]`).waitFor();
  assert.match(await op.locator(tid('hazard-heading')).innerText(), /YH\d+ 溺水水域/);
  assert.ok(Number(await op.locator(tid('hazard-score')).getAttribute('data-score')) > 0);
  // the task says what its problem became
  await op.goto(taskUrl);
  await op.locator(tid('problem-became-hazard')).waitFor();

  // assigned to the station itself with the default deadline, signed for, rectified with a photo after
  await op.goto(hazardUrl);
  await hazardStep(op, 'assign', 'assigned', async (box) => {
    await box.locator(tid('responsible-assign')).selectOption({ label: await stationLabel(op) });
  });
  await hazardStep(op, 'sign_for', 'rectifying');
  await hazardStep(op, 'rectify', 'rectified', async (box) => {
    await box.locator(tid('note-rectify')).fill('已补齐护栏并设置防溺水警示牌');
    await box.locator(tid('photo-after')).setInputFiles({ name: 'after.png', mimeType: 'image/png', buffer: makePng() });
  });
  assert.equal(await op.locator(`${tid('photos-after')} img`).count(), 1);

  // the leader rechecks and closes it (销号)
  await lp.goto(hazardUrl);
  await hazardStep(lp, 'recheck_pass', 'rechecked', async (box) => {
    await box.locator(tid('note-recheck_pass')).fill('现场复查合格');
  });
  await hazardStep(lp, 'close', 'closed');
  assert.equal(await lp.locator(tid('timeline-item')).count(), 6, 'register, assign, sign for, rectify, recheck, close');
  await lp.goto('/hazards?state=closed');
  assert.equal(await lp.locator(tid('hazard-row')).count(), 1);
  await leader.context.close();
  await officer.context.close();
});

/** The officer's station as the responsible-body list names it. */
async function stationLabel(page) {
  const opts = await page.locator(`${tid('responsible-assign')} option`).allInnerTexts();
  const s = opts.find((o) => o.includes('派出所'));
  assert.ok(s, `a station among ${opts}`);
  return s;
}
