// The whole loop in the browser: 制定/派单 → 接单 → 开始处置 → 提交反馈 (with a
// photo) → 退回重办 → 提交反馈 → 评价, by three users in their own contexts.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createTask, doAction, launchBrowser, loginAs, makePng, startServer, tid, timelineActions, unique, waitForState,
} from './harness.mjs';

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

test('login: a wrong password shows an error and stays on /login', async () => {
  const context = await browser.newContext({ baseURL: server.baseURL, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto('/login');
  await page.locator(tid('login-username')).fill('s1.officer');
  await page.locator(tid('login-password')).fill('wrong-password');
  await page.locator(tid('login-submit')).click();
  await page.locator(`${tid('login-error')} ${tid('form-error')}`).waitFor({ timeout: 15_000 });
  assert.match(new URL(page.url()).pathname, /^\/login/);
  assert.equal(await page.locator(tid('current-user')).count(), 0);
  await context.close();
});

test('task loop: dispatch, accept, start, feedback with photo, return, feedback, evaluate', async (t) => {
  const title = `走访测试任务 ${unique('LOOP')}`;
  let taskId;
  let command, officer, leader;

  await t.test('command room creates and dispatches to s1.officer', async () => {
    command = await loginAs(browser, server.baseURL, 's1.command');
    taskId = await createTask(command.page, { title, assignee: 's1.officer' });
    assert.ok(taskId > 0);
    await waitForState(command.page, 'dispatched');
    const number = (await command.page.locator(tid('task-number')).innerText()).trim();
    assert.notEqual(number, '', 'task number shown');
    assert.match(await command.page.locator(tid('task-heading')).innerText(), new RegExp(title.split(' ')[1]));
  });

  await t.test('officer is notified and finds the task on /m', async () => {
    officer = await loginAs(browser, server.baseURL, 's1.officer');
    const { page } = officer;
    await page.goto('/m');
    const unread = page.locator(tid('unread-count'));
    await unread.waitFor();
    assert.ok(Number((await unread.innerText()).trim()) > 0, 'unread count > 0 after dispatch');

    const card = page.locator(tid('my-task'), { hasText: title });
    await card.waitFor();
    assert.equal(await card.count(), 1);
    await card.click();
    await page.waitForURL(new RegExp(`/tasks/${taskId}$`));
    await waitForState(page, 'dispatched');
  });

  await t.test('officer accepts, starts and submits feedback with a photo', async () => {
    const { page } = officer;
    await doAction(page, 'accept', { expectState: 'accepted' });
    await doAction(page, 'start', { expectState: 'in_progress' });
    await doAction(page, 'submit_feedback', {
      note: '已上门走访，情况正常。',
      photos: { name: '现场.png', mimeType: 'image/png', buffer: makePng() },
      expectState: 'feedback_submitted',
    });
    assert.match(await page.locator(tid('task-feedback')).innerText(), /已上门走访/);
    const img = page.locator(`${tid('task-photos')} ${tid('task-photo')}`).first();
    await img.waitFor({ state: 'visible' });
    // The image really loaded from /files/{id}.
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    assert.equal(await img.evaluate((el) => el.naturalWidth), 80);
    assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  });

  await t.test('leader returns it for rework', async () => {
    leader = await loginAs(browser, server.baseURL, 's1.leader');
    const { page } = leader;
    await page.goto(`/tasks/${taskId}`);
    await waitForState(page, 'feedback_submitted');
    await doAction(page, 'return', { note: '请补充走访对象的联系方式。', expectState: 'in_progress' });
    assert.equal((await page.locator(tid('task-rework')).innerText()).trim(), '1');
  });

  await t.test('officer submits feedback again', async () => {
    const { page } = officer;
    await page.goto(`/tasks/${taskId}`);
    await waitForState(page, 'in_progress');
    await doAction(page, 'submit_feedback', { note: '已补充联系方式。', expectState: 'feedback_submitted' });
  });

  await t.test('leader evaluates with score 5', async () => {
    const { page } = leader;
    await page.goto(`/tasks/${taskId}`);
    await waitForState(page, 'feedback_submitted');
    await doAction(page, 'evaluate', { score: 5, note: '完成较好。', expectState: 'evaluated' });
    assert.equal((await page.locator(tid('task-score')).innerText()).trim(), '5');
    assert.equal((await page.locator(tid('task-rework')).innerText()).trim(), '1');
    await page.locator(tid('no-actions')).waitFor();
  });

  await t.test('timeline shows the whole history in order', async () => {
    const { page } = leader;
    const actions = await timelineActions(page);
    const expected = ['制定', '派单', '接单', '开始处置', '提交反馈', '退回重办', '提交反馈', '评价'];
    // `expected` must appear as a subsequence of the rendered timeline.
    let i = 0;
    for (const a of actions) if (a === expected[i]) i++;
    assert.equal(i, expected.length, `timeline ${JSON.stringify(actions)} lacks ${JSON.stringify(expected.slice(i))} in order`);
    assert.equal(actions.length, expected.length, `unexpected extra events: ${JSON.stringify(actions)}`);
  });

  await t.test('the ledger lists the evaluated task', async () => {
    const { page } = leader;
    await page.goto('/tasks');
    await page.locator(tid('filter-q')).fill(title);
    await page.locator(tid('filter-submit')).click();
    await page.waitForURL(/[?&]q=/);
    assert.equal((await page.locator(tid('task-total')).innerText()).trim(), '1');
    const row = page.locator(`${tid('task-row')}[data-task-id="${taskId}"]`);
    await row.waitFor();
  });

  for (const u of [command, officer, leader]) await u?.context.close();
});
