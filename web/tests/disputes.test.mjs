// Disputes in a browser: registered from an incident, turning orange then red
// as facts are added (with the rules shown), escalated to the 司法所 which
// signs for it, mediated to success and followed up.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, loginAs, startServer, tid, unique } from './harness.mjs';

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

async function act(page, action, fill = async () => {}) {
  const box = page.locator(tid(`action-${action}`));
  if ((await box.getAttribute('open')) === null) await page.locator(tid(`open-${action}`)).click();
  await fill();
  const before = page.url();
  await page.locator(tid(`submit-${action}`)).click();
  await page.waitForFunction((u) => document.readyState === 'complete' && location.href === u, before);
}

const waitAttr = (page, id, attr, value) =>
  page.waitForFunction(
    ([id, attr, value]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute(attr) === value,
    [id, attr, value],
  );

test('a dispute from an incident: colours rise, escalated, signed for, settled', async () => {
  const officer = await loginAs(browser, server.baseURL, 's1.officer');
  const page = officer.page;
  // an incident about a quarrel, taken in by the command room
  const command = await loginAs(browser, server.baseURL, 's1.command');
  await command.page.goto('/incidents/new');
  const text = `邻居因噪音争吵 ${unique('NOISE')}`;
  await command.page.keyboard.type(text);
  await command.page.locator(tid('incident-type')).selectOption('0401');
  await command.page.locator(tid('incident-description')).focus();
  await Promise.all([command.page.waitForURL(/\/incidents\/\d+$/), command.page.keyboard.press('Control+Enter')]);
  const incidentId = Number(command.page.url().split('/').pop());
  await command.context.close();

  // the officer registers a dispute from it: the form starts from the incident
  await page.goto(`/incidents/${incidentId}`);
  await Promise.all([page.waitForURL(/\/disputes\/new\?incident=/), page.locator(tid('register-dispute')).click()]);
  assert.match(await page.locator(tid('dispute-from-incident')).innerText(), /JQ/);
  assert.equal(await page.locator(tid('dispute-source')).inputValue(), 'transferred');
  await page.locator(tid('dispute-title')).fill('楼上噪音邻里纠纷');
  await page.locator(tid('dispute-category')).selectOption('02');
  await page.locator(tid('party1-name')).fill('周一');
  await page.locator(tid('party1-phone')).fill('13600001234');
  await page.locator(tid('party2-name')).fill('吴二');
  await Promise.all([page.waitForURL(/\/disputes\/\d+$/), page.locator(tid('dispute-submit')).click()]);
  const id = Number(page.url().split('/').pop());
  await waitAttr(page, 'dispute-state', 'data-state', 'pending_accept');
  assert.equal(await page.locator(tid('dispute-colour')).getAttribute('data-colour'), 'yellow', 'neighbours: general');
  assert.match(await page.locator(tid('party-table')).innerText(), /周\*/);
  assert.doesNotMatch(await page.locator(tid('party-table')).innerText(), /13600001234/);

  // facts: more people → orange; a threat → red, each with the rule that fired
  await act(page, 'update', async () => {
    await page.locator(tid('update-people')).fill('8');
    await page.locator(tid('note-update')).fill('两家亲属聚集');
  });
  await waitAttr(page, 'dispute-colour', 'data-colour', 'orange');
  assert.match(await page.locator(tid('fired-rules')).innerText(), /5人以上/);
  await act(page, 'update', () => page.locator(tid('note-update')).fill('吴二扬言要报复'));
  await waitAttr(page, 'dispute-colour', 'data-colour', 'red');
  assert.match(await page.locator(tid('fired-rules')).innerText(), /过激言行/);

  // accepted as B, escalated to the county with the 司法所 receiving it
  await act(page, 'accept', () => page.locator(tid('class-accept')).selectOption('B'));
  await waitAttr(page, 'dispute-state', 'data-state', 'pending_mediation');
  await act(page, 'escalate', async () => {
    await page.locator(tid('level-escalate')).selectOption('3');
    await page.locator(tid('to-org-escalate')).selectOption('361202001100');
    await page.locator(tid('note-escalate')).fill('涉及多户，需县级牵头');
  });
  await waitAttr(page, 'dispute-level', 'data-level', '3');

  // the station leader issues a warning notice to the 司法所 (red: 四个一)
  const leader = await loginAs(browser, server.baseURL, 's1.leader');
  await leader.page.goto(`/disputes/${id}`);
  await leader.page.locator(tid('plan-missing')).waitFor();
  await leader.page.locator(tid('open-notice')).click();
  await leader.page.locator(tid('recipient-361202001100')).check();
  await leader.page.locator(tid('notice-actions')).fill('请司法所牵头组织联合调解');
  await Promise.all([leader.page.waitForURL(/\/notices\/\d+$/), leader.page.locator(tid('notice-submit')).click()]);
  assert.match(await leader.page.locator(tid('notice-number')).innerText(), /纠预〔\d{4}〕第1号/);
  assert.match(await leader.page.locator(tid('notice-doc')).innerText(), /重大矛盾纠纷预警提示函[\s\S]*城南区滨江街道司法所/);
  await leader.context.close();

  // the 司法所 signs for the notice from its list, then for the escalation, and mediates it to success
  const sifa = await loginAs(browser, server.baseURL, 'p.sifa1');
  await sifa.page.goto('/notices');
  await sifa.page.locator(tid('notice-to-sign')).waitFor();
  await Promise.all([sifa.page.waitForURL(/\/notices\/\d+$/), sifa.page.locator(tid('notice-link')).first().click()]);
  await sifa.page.locator(tid('notice-reply')).fill('已安排调解员');
  await sifa.page.locator(tid('notice-sign')).click();
  await sifa.page.locator(tid('recipient-row')).filter({ hasText: '已安排调解员' }).waitFor();
  await sifa.page.goto('/disputes');
  await sifa.page.locator(`${tid('dispute-row')}[data-dispute-id="${id}"] a`).first().click();
  await sifa.page.waitForURL(`**/disputes/${id}`);
  await act(sifa.page, 'sign_for');
  const escalation = await sifa.page.locator(tid('escalation-row')).innerText();
  assert.match(escalation, /司法所/);
  assert.doesNotMatch(escalation, /待签收/, 'signed for');
  await act(sifa.page, 'start');
  await waitAttr(sifa.page, 'dispute-state', 'data-state', 'mediating');
  await act(sifa.page, 'session', async () => {
    await sifa.page.locator(tid('session-mediators')).fill('司法所调解员');
    await sifa.page.locator(tid('session-outcome')).selectOption('settled');
    await sifa.page.locator(tid('session-agreement')).fill('楼上夜间十点后不再施工');
    await sifa.page
      .locator(tid('session-file'))
      .setInputFiles({ name: '调解协议书.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  });
  await sifa.page.locator(tid('session-row')).waitFor();
  assert.equal(await sifa.page.locator(tid('session-file-link')).innerText(), '调解协议书.pdf');
  await act(sifa.page, 'succeed', () => sifa.page.locator(tid('note-succeed')).fill('双方签订协议'));
  await waitAttr(sifa.page, 'dispute-state', 'data-state', 'succeeded');
  // the follow-up visits (day 7 and 30) are scheduled as tasks
  assert.equal(await sifa.page.locator(tid('follow-up-row')).count(), 2);
  assert.equal(sifa.page.__errors.length, 0, `page errors: ${sifa.page.__errors.join('; ')}`);
  await sifa.context.close();

  // the officer finds the visits among their tasks, and puts the dispute under regular follow-up
  await page.goto('/m');
  assert.match(await page.locator('main').innerText(), /纠纷回访（第7天）/);
  await page.goto(`/disputes/${id}`);
  await act(page, 'follow');
  await waitAttr(page, 'dispute-state', 'data-state', 'regular');
  await page.goto('/disputes/board');
  assert.equal(await page.locator(`${tid('dispute-row')}[data-dispute-id="${id}"]`).count(), 0);
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await officer.context.close();
});
