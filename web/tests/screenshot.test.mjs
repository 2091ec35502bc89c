// Screenshots for the docs, against a demo with a seeded history of 300 tasks:
// the ledger (/tasks), the board (/) and the analysis map, 1440×900, as the station leader.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, loginAs, startServer, tid } from './harness.mjs';

// Written to a temp dir; set ZHUFANG_DOCS_DIR=$PWD/../docs to refresh the README's pictures.
const docs = process.env.ZHUFANG_DOCS_DIR || path.join(os.tmpdir(), 'zhufang-screenshots');

let server;
let browser;

before(async () => {
  server = await startServer({ tasks: 300 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('screenshots of the ledger and the board (s1.leader, 300 seeded tasks)', async () => {
  await mkdir(docs, { recursive: true });
  const { context, page } = await loginAs(browser, server.baseURL, 's1.leader', {
    viewport: { width: 1440, height: 900 },
  });

  await page.goto('/tasks');
  await page.locator(tid('task-table')).waitFor();
  const rows = await page.locator(tid('task-row')).count();
  assert.ok(rows > 0, 'the ledger has rows');
  assert.ok(Number((await page.locator(tid('task-total')).innerText()).trim()) >= rows);
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(docs, 'screenshot-tasks.png') });

  await page.goto('/');
  await page.locator(tid('board-mine')).waitFor();
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(docs, 'screenshot-board.png') });

  await page.goto('/map/analysis');
  await page.waitForFunction(() => {
    const m = document.querySelector('[data-testid="map"]');
    return m && m.getAttribute('data-loaded') && m.getAttribute('data-loading') === '0';
  });
  assert.ok(await page.locator(tid('map-grid')).count() >= 5, 'grids on the map');
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(docs, 'screenshot-map.png') });

  assert.equal(page.__errors.length, 0, `page errors: ${page.__errors.join('; ')}`);
  await context.close();
});
