// Incidents in a browser: keyboard intake, the triage suggestion, diversion
// to 12345 which signs for it and reports, the call-back rating; and a police
// matter dispatched, attended and closed on site.

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

async function intake(page, { description, channel = '110', type = '', phone = '', at = null, address = '' }) {
  await page.goto('/incidents/new');
  // the cursor starts in the description; Ctrl+Enter submits
  await page.keyboard.type(description);
  await page.locator(tid('incident-channel')).selectOption(channel);
  // the suggestion appears while typing
  await page.locator(tid('live-triage')).filter({ hasText: /·/ }).waitFor();
  if (phone) await page.locator(tid('incident-phone')).fill(phone);
  if (address) await page.locator(tid('incident-address')).fill(address);
  if (at) {
    await page.locator(tid('incident-lat')).fill(String(at.lat));
    await page.locator(tid('incident-lon')).fill(String(at.lon));
  }
  if (type) await page.locator(tid('incident-type')).selectOption(type);
  await page.locator(tid('incident-description')).focus();
  await Promise.all([page.waitForURL(/\/incidents\/\d+$/), page.keyboard.press('Control+Enter')]);
  return Number(page.url().split('/').pop());
}

// A point inside one of station 1's grids (the mean of a convex cell's corners).
async function insideS1(page) {
  const fc = await (await page.request.get('/api/v1/grids?station=361202510000')).json();
  const ring = fc.features[0].geometry.coordinates[0].slice(0, -1);
  const mean = (i) => ring.reduce((a, p) => a + p[i], 0) / ring.length;
  return { lat: mean(1).toFixed(6), lon: mean(0).toFixed(6) };
}

async function act(page, action, fill = async () => {}) {
  const box = page.locator(tid(`action-${action}`));
  if ((await box.getAttribute('open')) === null) await page.locator(tid(`open-${action}`)).click();
  await fill();
  const before = page.url();
  await page.locator(tid(`submit-${action}`)).click();
  await page.waitForFunction((u) => document.readyState === 'complete' && location.href === u, before);
}

async function stateOf(page) {
  return page.locator(tid('incident-state')).getAttribute('data-state');
}

async function waitState(page, state) {
  await page.waitForFunction(
    (s) => document.querySelector('[data-testid="incident-state"]')?.getAttribute('data-state') === s,
    state,
  );
}

test('non-police: intake, suggestion, divert, the agency signs and reports, call-back rating', async () => {
  const description = `小区门口路灯坏了好几天 ${unique('LAMP')}`;
  const command = await loginAs(browser, server.baseURL, 's1.command');
  const at = await insideS1(command.page);
  const id = await intake(command.page, { description, type: '0801', phone: '13800138000', at });
  const page = command.page;
  assert.equal(await stateOf(page), 'received');
  assert.match(await page.locator(tid('triage-suggestion')).innerText(), /非警务类/);
  // where it is: a small map with the point over the station's grids
  await page.locator(`${tid('incident-map')}[data-grids]`).waitFor();
  assert.ok(Number(await page.locator(tid('incident-map')).getAttribute('data-grids')) > 0, 'the grids are drawn');
  await page.locator(tid('incident-marker')).waitFor();
  assert.match(await page.locator(tid('caller-phone')).innerText(), /138\*\*\*\*8000/);
  // the full number only on request (the read is audited)
  await page.locator(tid('reveal-caller')).click();
  await page.locator(tid('caller-phone-full')).waitFor();
  assert.equal(await page.locator(tid('caller-phone-full')).innerText(), '13800138000');
  // one key to accept the suggestion: the non-police choice is preselected
  assert.ok(await page.locator(tid('police-no')).isChecked());
  await act(page, 'triage');
  await waitState(page, 'triaged');
  await act(page, 'divert', () => page.locator(tid('agency-divert')).selectOption('361200012345'));
  await waitState(page, 'diverted');

  // a second call about the same lamp: the form shows the first as a possible duplicate
  await page.goto('/incidents/new');
  await page.locator(tid('incident-lat')).fill(at.lat);
  await page.locator(tid('incident-lon')).fill(at.lon);
  await page.locator(tid('incident-type')).selectOption('0801');
  await page.locator(`${tid('near-duplicate')} a[href="/incidents/${id}"]`).waitFor();
  await page.goto(`/incidents/${id}`);

  // the agency lands on its inbox, signs for the order there and reports the result
  const agency = await loginAs(browser, server.baseURL, 'p.12345');
  const inbox = agency.page;
  await inbox.waitForURL('**/incidents/inbox');
  const row = inbox.locator(`${tid('inbox-row')}[data-incident-id="${id}"]`);
  await row.waitFor({ timeout: 30_000 }).catch(async (e) => {
    throw new Error(`the agency's inbox lacks incident ${id}: ${await inbox.locator('main').innerText()}\n${e.message}`);
  });
  await Promise.all([inbox.waitForURL('**/incidents/inbox?tab=to_sign'), row.locator(tid('inbox-sign_for')).click()]);
  await row.waitFor({ state: 'detached' });
  await inbox.locator(tid('inbox-tab-in_hand')).click();
  const inHand = inbox.locator(`${tid('inbox-row')}[data-incident-id="${id}"]`);
  await inHand.locator(`${tid('inbox-open-agency_done')} summary`).click();
  await inHand.locator(tid('inbox-note-agency_done')).fill('已通知供电部门修复');
  await Promise.all([inbox.waitForURL('**/incidents/inbox?tab=in_hand'), inHand.locator(tid('inbox-submit-agency_done')).click()]);
  await inHand.waitFor({ state: 'detached' });
  await inbox.goto(`/incidents/${id}`);
  await waitState(inbox, 'agency_done');
  assert.equal(inbox.__errors.length, 0, `page errors: ${inbox.__errors.join('; ')}`);
  await agency.context.close();

  await page.reload();
  await act(page, 'close', () => page.locator(tid('rating-close')).selectOption('2'));
  await waitState(page, 'closed');
  const steps = await page.locator(tid('timeline-item')).count();
  assert.equal(steps, 6);
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await command.context.close();
});

test('intake: the place from an earlier address, a grid, or a click on the map', async () => {
  const command = await loginAs(browser, server.baseURL, 's1.command');
  const page = command.page;
  const at = await insideS1(page);
  const address = `滨江路${Math.floor(Math.random() * 900) + 100}号`;
  await intake(page, { description: `门口有人吵架 ${unique('ADDR')}`, at, address });

  // a second call from the same address: typing part of it offers it, picking it sets the point
  await page.goto('/incidents/new');
  await page.locator(tid('pick-map')).waitFor();
  await page.locator(tid('incident-address')).pressSequentially(address.slice(0, 4));
  await page.waitForFunction(
    (a) => [...document.querySelectorAll('#place-options option')].some((o) => o.value === a),
    address,
  );
  await page.locator(tid('incident-address')).fill(address);
  await page.waitForFunction((lat) => document.querySelector('[data-testid="incident-lat"]').value === lat, at.lat);
  assert.equal(await page.locator(tid('incident-lon')).inputValue(), at.lon);
  await page.locator(tid('pick-where')).filter({ hasText: /滨江派出所 · / }).waitFor();
  await page.locator(tid('pick-marker')).waitFor();

  // a grid by name: the point lands inside it
  const fc = await (await page.request.get('/api/v1/grids?station=361202510000')).json();
  const grid = fc.features[0].properties.name;
  await page.locator(tid('incident-address')).fill('');
  await page.locator(tid('incident-address')).pressSequentially(grid.slice(0, 2));
  const option = await page.waitForFunction(
    (g) => [...document.querySelectorAll('#place-options option')].find((o) => o.value.startsWith(g))?.value,
    grid,
  );
  await page.locator(tid('incident-address')).fill(await option.jsonValue());
  await page.locator(tid('pick-where')).filter({ hasText: grid }).waitFor();

  // the map is no tab stop (nor its grids): Tab goes from the coordinates to the type
  await page.locator(`${tid('pick-map')}[data-grids]`).waitFor();
  assert.ok(Number(await page.locator(tid('pick-map')).getAttribute('data-grids')) > 0, 'the grids are drawn');
  await page.locator(tid('incident-lon')).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'incident-type', await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200)));

  // a click on the map moves the point
  const before = await page.locator(tid('incident-lat')).inputValue();
  await page.locator(tid('pick-map')).scrollIntoViewIfNeeded();
  const box = await page.locator(tid('pick-map')).boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.7);
  await page.waitForFunction((b) => document.querySelector('[data-testid="incident-lat"]').value !== b, before);
  await page.locator(tid('incident-description')).fill(`地图选点 ${unique('PICK')}`);
  await page.locator(tid('incident-description')).focus();
  await Promise.all([page.waitForURL(/\/incidents\/\d+$/), page.keyboard.press('Control+Enter')]);
  assert.match(await page.locator('main').innerText(), /滨江派出所/);
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await command.context.close();
});

test('history: an admin imports a CSV in batches, with progress and bad rows by their line in the file', async () => {
  const admin = await loginAs(browser, server.baseURL, 'admin');
  const page = admin.page;
  await page.goto('/incidents');
  await Promise.all([page.waitForURL('**/incidents/import'), page.locator(tid('incident-import-link')).click()]);
  // 120 rows; row 10's description spans two lines (quoted), row 77 has a channel that does not exist
  const tag = unique('IMP');
  const lines = ['number,channel,received_at,description,station,type_code'];
  for (let k = 1; k <= 120; k++) {
    const channel = k === 77 ? 'fax' : '110';
    const text = k === 10 ? '"两人争执，\n一方报警"' : `历史警情${k}`;
    lines.push(`${tag}-${k},${channel},2026-10-${String(1 + (k % 28)).padStart(2, '0')} 08:00,${text},361202510000,0201`);
  }
  const csv = lines.join('\n') + '\n';
  assert.equal(await page.locator(tid('import-progress-box')).isVisible(), false, 'no bar before an import');
  // small batches, so the bar moves several times and line numbers cross batches
  await page.locator(tid('import-form')).evaluate((f) => f.setAttribute('data-batch', '50'));
  const upload = async () => {
    await page.locator(tid('import-file')).setInputFiles({ name: 'history.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator(tid('import-submit')).click();
    await page.locator(tid('import-summary')).waitFor();
  };
  await upload();
  const num = async (id) => Number(await page.locator(tid(id)).innerText());
  assert.deepEqual([await num('import-rows'), await num('import-imported'), await num('import-existing')], [120, 119, 0]);
  assert.equal(await page.locator(tid('import-progress')).evaluate((p) => p.value), 1);
  const bad = page.locator(tid('import-error'));
  assert.equal(await bad.count(), 1);
  assert.equal(await bad.getAttribute('data-line'), '79', 'row 77 starts on line 79 of the file (row 10 takes two lines)');
  assert.match(await bad.innerText(), /channel/);
  // the same file again: nothing new, nothing lost
  await page.locator(tid('import-summary')).evaluate((e) => e.remove());
  await upload();
  assert.deepEqual([await num('import-rows'), await num('import-imported'), await num('import-existing')], [120, 0, 119]);
  await page.goto(`/incidents?q=${tag}`);
  assert.equal(await page.locator(tid('incident-total')).innerText(), '119');
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  // not for the command room
  const command = await loginAs(browser, server.baseURL, 's1.command');
  const r = await command.page.goto('/incidents/import');
  assert.equal(r.status(), 403);
  await command.context.close();
  await admin.context.close();
});

test('police: dispatched, attended and closed on site', async () => {
  const description = `两人在菜市场门口推搡 ${unique('FIGHT')}`;
  const command = await loginAs(browser, server.baseURL, 's1.command');
  const page = command.page;
  const id = await intake(page, { description, type: '0201' });
  // whatever the text model suggests, the type chosen says police; the officer decides
  await act(page, 'triage', () => page.locator(tid('police-yes')).check());
  await waitState(page, 'triaged');
  await act(page, 'dispatch', () => page.locator(tid('assignee-dispatch')).selectOption('s1.officer'));
  await waitState(page, 'dispatched');

  const officer = await loginAs(browser, server.baseURL, 's1.officer', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  // on the phone the call is on top of "my tasks": one tap on arrival, one with the result
  const phone = officer.page;
  await phone.goto('/m');
  const card = phone.locator(`${tid('my-call')}[data-incident-id="${id}"]`);
  assert.equal(await card.getAttribute('data-state'), 'dispatched');
  await card.locator(tid('call-arrive')).click();
  await phone.locator(`${tid('my-call')}[data-incident-id="${id}"][data-state="arrived"]`).waitFor();
  assert.equal(phone.url().replace(/^https?:\/\/[^/]+/, ''), '/m', 'back on the phone view');
  // the result is required: refused in place, nothing lost
  await phone.locator(`${tid('my-call')}[data-incident-id="${id}"] ${tid('call-handle')}`).click();
  assert.equal(await phone.locator(`${tid('my-call')}[data-incident-id="${id}"]`).getAttribute('data-state'), 'arrived');
  await phone.locator(`${tid('my-call')}[data-incident-id="${id}"] ${tid('call-result')}`).selectOption('on_site');
  await phone.locator(`${tid('my-call')}[data-incident-id="${id}"] ${tid('call-handle')}`).click();
  await phone.locator(`${tid('my-call')}[data-incident-id="${id}"]`).waitFor({ state: 'detached' });
  await phone.goto(`/incidents/${id}`);
  await waitState(phone, 'handled');
  const overflow = await officer.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the incident page fits a phone (overflow ${overflow}px)`);
  // the ledger stacks into cards on a phone: every cell under its column's name, nothing off-screen
  await phone.goto('/incidents');
  await phone.locator(tid('incident-row')).first().waitFor();
  const wide = await phone.evaluate(() => document.querySelector('[data-testid="incident-table"]').scrollWidth - window.innerWidth);
  assert.ok(wide <= 0, `the incident list fits a phone (overflow ${wide}px)`);
  assert.equal(await phone.locator(`${tid('incident-table')} thead`).isVisible(), false);
  await officer.context.close();

  await page.reload();
  await act(page, 'close');
  await waitState(page, 'closed');
  await page.goto('/incidents?state=closed');
  assert.ok((await page.locator(tid('incident-row')).count()) >= 1);
  // the response figures: the stations compared in a chart drawn here (ECharts, embedded), beside the table
  await page.goto('/incidents/figures');
  await page.locator(`${tid('figures-chart')}[data-drawn="1"] svg`).first().waitFor();
  assert.ok((await page.locator(`${tid('figures-chart')} svg path`).count()) > 0, 'bars drawn');
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await command.context.close();
});
