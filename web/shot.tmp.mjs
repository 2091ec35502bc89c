import { chromium } from 'playwright-core';
const base = 'http://127.0.0.1:8099';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const ctx = await b.newContext({ baseURL: base, viewport: { width: 1400, height: 900 } });
const page = await ctx.newPage();
page.on('console', m => console.log('console:', m.type(), m.text()));
page.on('pageerror', e => console.log('pageerror:', e.message));
await page.goto('/login');
await page.fill('[name=username]', process.argv[2] || 's1.leader');
await page.fill('[name=password]', 'demo');
await page.click('[data-testid=login-submit]');
await page.waitForURL(u => !u.pathname.startsWith('/login'));
for (const v of (process.argv[3] || 'command,analysis,duty').split(',')) {
  await page.goto('/map/' + v);
  await page.waitForSelector('#map[data-loaded]', { timeout: 15000 }).catch(e => console.log('no loaded', v));
  await page.waitForTimeout(800);
  console.log(v, await page.locator('[data-testid=map-grid]').count(), 'grids', await page.locator('[data-testid=map-point]').count(), 'points', await page.locator('[data-testid=map-cluster]').count(), 'clusters', await page.textContent('#map-status'));
  await page.screenshot({ path: `/tmp/zf/map-${v}.png` });
}
const g = page.locator('[data-testid=map-grid]').first();
await g.click({ force: true });
await page.waitForSelector('[data-testid=grid-card]', { timeout: 5000 }).catch(() => console.log('no card'));
await page.screenshot({ path: `/tmp/zf/map-card.png` });
await b.close();
