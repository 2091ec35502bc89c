// Station isolation: a task of station 1 is invisible to station 2 (page,
// ledger and direct POST), and a same-station colleague who is not the
// assignee may see it but not act on it.

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

/** The CSRF token the layout hands to htmx. */
async function csrfOf(page) {
  const hx = await page.evaluate(() => document.body.getAttribute('hx-headers'));
  assert.ok(hx, 'body has hx-headers');
  const token = JSON.parse(hx)['x-csrf-token'];
  assert.ok(token, 'hx-headers carries x-csrf-token');
  return token;
}

test('station 2 cannot see or act on a station 1 task', async (t) => {
  const title = `隔离测试任务 ${unique('ISO')}`;
  const command = await loginAs(browser, server.baseURL, 's1.command');
  const taskId = await createTask(command.page, { title, assignee: 's1.officer' });
  await waitForState(command.page, 'dispatched');

  // The version the real accept form would send, so a refusal below is about
  // who asks, not about a stale version.
  const s1officer = await loginAs(browser, server.baseURL, 's1.officer');
  await s1officer.page.goto(`/tasks/${taskId}`);
  await waitForState(s1officer.page, 'dispatched');
  const version = await s1officer.page
    .locator(`${tid('action-accept')} form [name="version"]`)
    .getAttribute('value');
  assert.ok(version, 'accept form has a version');

  const s2 = await loginAs(browser, server.baseURL, 's2.officer');

  await t.test('task page is a 404 error page for s2.officer', async () => {
    const resp = await s2.page.goto(`/tasks/${taskId}`);
    assert.equal(resp.status(), 404);
    await s2.page.locator(tid('error-page')).waitFor();
    assert.equal(await s2.page.locator(tid('task-state')).count(), 0);
  });

  await t.test('task is not in the s2.officer ledger', async () => {
    const { page } = s2;
    await page.goto('/tasks');
    await page.locator(tid('filter-q')).fill(title);
    await page.locator(tid('filter-submit')).click();
    await page.waitForURL(/[?&]q=/);
    assert.equal((await page.locator(tid('task-total')).innerText()).trim(), '0');
    assert.equal(await page.locator(tid('task-row')).count(), 0);
  });

  await t.test('a direct transition POST from s2.officer is refused', async (st) => {
    const { page } = s2;
    await page.goto('/m');
    const token = await csrfOf(page);
    const resp = await page.request.post(`/tasks/${taskId}/transitions`, {
      multipart: { action: 'accept', version },
      headers: { 'x-csrf-token': token, 'hx-request': 'true' },
      maxRedirects: 0,
    });
    st.diagnostic(`s2.officer POST /tasks/${taskId}/transitions -> ${resp.status()}`);
    assert.ok([403, 404].includes(resp.status()), `expected 403/404, got ${resp.status()}`);
    assert.equal(resp.headers()['hx-redirect'], undefined);

    await s1officer.page.goto(`/tasks/${taskId}`);
    await waitForState(s1officer.page, 'dispatched');
  });

  await t.test('s1.aux sees the task but may not accept it', async (st) => {
    const aux = await loginAs(browser, server.baseURL, 's1.aux');
    const resp = await aux.page.goto(`/tasks/${taskId}`);
    assert.equal(resp.status(), 200);
    await waitForState(aux.page, 'dispatched');
    assert.equal(await aux.page.locator(tid('action-accept')).count(), 0, 'no accept action for a non-assignee');
    assert.equal(await aux.page.locator(tid('action-refuse')).count(), 0, 'no refuse action for a non-assignee');

    // And the server refuses it too, not just the page.
    const token = await csrfOf(aux.page);
    const post = await aux.page.request.post(`/tasks/${taskId}/transitions`, {
      multipart: { action: 'accept', version },
      headers: { 'x-csrf-token': token, 'hx-request': 'true' },
      maxRedirects: 0,
    });
    st.diagnostic(`s1.aux POST accept -> ${post.status()}; actions shown: ${await aux.page.locator(tid('no-actions')).count() ? 'none' : 'some'}`);
    assert.ok(post.status() >= 400, `s1.aux accept must fail, got ${post.status()}`);
    assert.equal(post.headers()['hx-redirect'], undefined);
    await aux.context.close();
  });

  await t.test('control: the same request from the assignee succeeds', async () => {
    // Proves the refused requests above were well-formed.
    const { page } = s1officer;
    await page.goto(`/tasks/${taskId}`);
    const token = await csrfOf(page);
    const resp = await page.request.post(`/tasks/${taskId}/transitions`, {
      multipart: { action: 'accept', version },
      headers: { 'x-csrf-token': token, 'hx-request': 'true' },
      maxRedirects: 0,
    });
    assert.ok(resp.status() < 400, `assignee accept got ${resp.status()}: ${await resp.text()}`);
    await page.goto(`/tasks/${taskId}`);
    await waitForState(page, 'accepted');
  });

  for (const u of [command, s1officer, s2]) await u.context.close();
});
