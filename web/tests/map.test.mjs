// The one map in a browser: grids drawn offline (no request leaves the
// server), layers toggled, a grid's card on click, a point opening its task,
// the phone layout, and a broken polygon refused at upload with its reason.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, loginAs, startServer, tid } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ tasks: 200 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Every request that would leave this server is refused and remembered. */
async function offline(context, baseURL) {
  const outside = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseURL) || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  return outside;
}

/** Waits until the map has finished a round of loading. */
async function settled(page) {
  await page.waitForFunction(() => {
    const m = document.querySelector('[data-testid="map"]');
    return m && m.getAttribute('data-loaded') && m.getAttribute('data-loading') === '0';
  });
}

/** Points and clusters of one layer on the map. */
const items = (page, layer = 'tasks') =>
  page.locator(`${tid('map-point')}[data-layer="${layer}"], ${tid('map-cluster')}[data-layer="${layer}"]`).count();

test('the analysis map offline: grids, layers, grid card, a point opens its task', async (t) => {
  const { context, page } = await loginAs(browser, server.baseURL, 's1.leader', { viewport: { width: 1440, height: 900 } });
  const outside = await offline(context, server.baseURL);
  await page.goto('/map/analysis');
  await settled(page);

  await t.test('grids and their labels are drawn on a plain background', async () => {
    assert.ok(await page.locator(tid('map-grid')).count() >= 5, 'station 1 has at least five grids');
    assert.ok(await page.locator(tid('grid-label')).count() >= 5);
    assert.equal(await page.locator('.leaflet-tile').count(), 0, 'no tiles without a tile server');
    assert.ok(await page.locator('#map.offline').count() === 1);
  });

  await t.test('the task layer and the heat layer toggle', async () => {
    assert.ok(await items(page) > 0, 'tasks of the last 30 days are on the map');
    assert.ok(await items(page, 'incidents') > 0, 'and incidents (a layer of their own)');
    assert.ok(await page.locator('path.zf-heat').count() > 0, 'heat cells drawn');
    assert.ok(await page.locator(tid('top-cell')).count() > 0, 'top cells listed beside the map');
    await page.locator(tid('layer-tasks')).uncheck();
    await settled(page);
    assert.equal(await items(page), 0, 'tasks hidden');
    assert.ok(await items(page, 'incidents') > 0, 'incidents stay');
    await page.locator(tid('layer-tasks')).check();
    await settled(page);
    assert.ok(await items(page) > 0, 'tasks back');
    await page.locator(tid('layer-grids')).uncheck();
    assert.equal(await page.locator(tid('map-grid')).count(), 0, 'grids hidden');
    await page.locator(tid('layer-grids')).check();
    assert.ok(await page.locator(tid('map-grid')).count() >= 5, 'grids back');
    await page.locator(tid('layer-heat')).uncheck();
    await settled(page);
    assert.equal(await page.locator('path.zf-heat').count(), 0, 'heat hidden');
  });

  await t.test('clicking a grid shows its officer, auxiliaries and figures', async () => {
    await page.locator(tid('layer-tasks')).uncheck();
    await settled(page);
    await page.locator(tid('map-grid')).first().click({ force: true });
    const card = page.locator(tid('grid-card'));
    await card.waitFor();
    assert.ok((await page.locator(tid('grid-card-officer')).innerText()).trim().length > 0);
    assert.ok((await page.locator(tid('grid-card-aux')).innerText()).trim().length > 0);
    assert.match(await page.locator(tid('grid-card-figures')).innerText(), /\d/);
  });

  await t.test('changing the figure recolours the grids', async () => {
    const before = await page.locator(tid('map-grid')).evaluateAll((ps) => ps.map((p) => p.getAttribute('fill')).join());
    await page.locator(tid('map-figure')).selectOption('task.in_period');
    await settled(page);
    const legend = await page.locator(tid('map-legend')).innerText();
    assert.match(legend, /时段内主防任务/);
    const after = await page.locator(tid('map-grid')).evaluateAll((ps) => ps.map((p) => p.getAttribute('fill')).join());
    assert.notEqual(before, after, 'fills follow the figure');
  });

  await t.test('clicking a point opens its task', async () => {
    await page.locator(tid('layer-tasks')).check();
    await settled(page);
    // zoom until single points show, then click one
    const taskPoints = page.locator(`${tid('map-point')}[data-layer="tasks"]`);
    for (let i = 0; i < 4 && (await taskPoints.count()) === 0; i++) {
      await page.locator(`${tid('map-cluster')}[data-layer="tasks"]`).first().click();
      await settled(page);
    }
    const point = taskPoints.first();
    const url = await point.getAttribute('data-url');
    assert.match(url, /^\/tasks\/\d+$/);
    await point.dispatchEvent('click');
    await page.waitForURL((u) => u.pathname === url);
  });

  assert.deepEqual(outside, [], 'nothing was fetched from outside the server');
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await context.close();
});

test('command and duty views; the duty view lists idle grids', async () => {
  const { context, page } = await loginAs(browser, server.baseURL, 's1.command');
  await page.goto('/map/command');
  await settled(page);
  assert.ok(await page.locator(tid('map-grid')).count() >= 5);
  assert.match(await page.locator(tid('live')).innerText(), /24/);
  await page.locator(tid('view-duty')).click();
  await settled(page);
  assert.equal(await page.locator(tid('map-figure')).inputValue(), 'duty_done');
  const idle = await page.locator(tid('idle-grid')).count();
  const dashed = await page.locator('path.zf-idle').count();
  assert.equal(idle, dashed, 'every idle grid is listed and outlined');
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await context.close();
});

test('the map on a phone: fits the screen, the card below the map', async () => {
  const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
  const { context, page } = await loginAs(browser, server.baseURL, 's1.officer', PHONE);
  await page.goto('/map/command');
  await settled(page);
  assert.ok(await page.locator(tid('map-grid')).count() >= 5, 'an officer sees the station grids');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  const map = await page.locator(tid('map')).boundingBox();
  assert.ok(map.width <= 390 && map.height >= 300, `map ${map.width}×${map.height}`);
  await page.locator(tid('map-grid')).first().tap({ force: true });
  await page.locator(tid('grid-card')).waitFor();
  const card = await page.locator(tid('grid-card')).boundingBox();
  assert.ok(card.y > map.y, 'the card sits below the map');
  await context.close();
});

test('uploading a broken polygon is refused with its reason; a good file previews and imports', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zhufang-grids-'));
  const feature = (code, coords) => ({ type: 'Feature', properties: { code, name: `测试网格${code.slice(-3)}`, station: '361202510000' },
    geometry: { type: 'Polygon', coordinates: [coords] } });
  const bad = path.join(dir, 'bad.geojson');
  await writeFile(bad, JSON.stringify({ type: 'FeatureCollection', features: [
    feature('361202510009001', [[117.0, 29.0], [117.01, 29.0], [117.01, 29.01], [117.0, 29.01], [117.0, 29.0]]),
    feature('361202510009002', [[117.1, 29.0], [117.11, 29.01], [117.11, 29.0], [117.1, 29.01], [117.1, 29.0]]),
  ] }));
  const good = path.join(dir, 'good.geojson');
  await writeFile(good, JSON.stringify({ type: 'FeatureCollection', features: [
    feature('361202510009001', [[117.0, 29.0], [117.01, 29.0], [117.01, 29.01], [117.0, 29.01], [117.0, 29.0]]),
  ] }));

  const { context, page } = await loginAs(browser, server.baseURL, 'admin');
  await page.goto('/grids');
  await page.locator(tid('grid-import-link')).click();
  await page.locator(tid('grid-file')).setInputFiles(bad);
  await page.locator(tid('grid-preview')).click();
  const errors = page.locator(tid('import-errors'));
  await errors.waitFor();
  const text = await errors.innerText();
  assert.match(text, /features\[1\]/);
  assert.match(text, /自相交/);
  assert.match(text, /未导入任何内容/);
  assert.ok(await page.locator(tid('grid-commit')).isDisabled(), 'cannot commit a broken file');
  assert.ok(await page.locator('path.zf-bad').count() === 1, 'the broken feature is marked on the preview map');

  await page.locator(tid('grid-file')).setInputFiles(good);
  await page.locator(tid('grid-preview')).click();
  await page.locator(tid('import-report')).waitFor();
  await page.locator(tid('grid-commit')).click();
  await page.waitForFunction(() => /已导入/.test(document.querySelector('[data-testid="import-report"]')?.innerText || ''));
  await page.goto('/grids?q=361202510009001');
  assert.equal(await page.locator(tid('grid-row')).count(), 1, 'the good file was imported');
  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await context.close();
});
