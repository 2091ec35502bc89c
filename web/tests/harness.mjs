// Shared helpers for the browser tests: a throw-away demo server, a headless
// Chromium, sign-in, and small wait helpers (playwright-core has no `expect`).
//
// Elements are selected by `data-testid` only (form field names where a
// control has no test id).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');

export const BIN = process.env.ZHUFANG_BIN
  ? path.resolve(webDir, process.env.ZHUFANG_BIN)
  : path.resolve(webDir, '../target/debug/zhufang');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const PASSWORD = 'demo';
export const DEFAULT_TIMEOUT = 15_000;

/** `[data-testid="id"]` */
export const tid = (id) => `[data-testid="${id}"]`;

/** A unique suffix for titles, so a search finds exactly one task. */
export const unique = (prefix = 'E2E') =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/**
 * Starts `zhufang demo` on a fresh temp data dir and a free loopback port.
 * Resolves to { baseURL, stop(), output() } once the listening line is printed.
 */
export async function startServer({ tasks = 0, timeoutMs = 120_000 } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'zhufang-e2e-'));
  const child = spawn(BIN, ['demo', '--data-dir', dataDir, '--bind', '127.0.0.1:0', '--tasks', String(tasks)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let log = '';
  const keep = (chunk) => {
    log += chunk.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stderr.on('data', keep);

  // Never leave the server behind, even if the test process dies.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const baseURL = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => reject(new Error(`zhufang did not print its listening line within ${timeoutMs} ms\n${log.slice(-4000)}`)),
        timeoutMs,
      );
      child.stdout.on('data', (chunk) => {
        keep(chunk);
        buf += chunk.toString();
        const m = buf.match(/zhufang listening on (http:\/\/[^\s]+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace(/\/$/, ''));
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${BIN}: ${e.message}`));
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`zhufang exited early (code ${code}, signal ${sig})\n${log.slice(-4000)}`));
      });
    });
    // Keep draining stdout so the child never blocks on a full pipe.
    return { baseURL, dataDir, stop, output: () => log };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--lang=zh-CN',
    ],
  });
}

/**
 * A fresh context (own cookies) signed in as `username`; returns { context, page }.
 * Collects page errors into `page.__errors` for diagnostics.
 */
export async function loginAs(browser, baseURL, username, contextOptions = {}) {
  const context = await browser.newContext({ baseURL, locale: 'zh-CN', ...contextOptions });
  context.setDefaultTimeout(DEFAULT_TIMEOUT);
  const page = await context.newPage();
  page.__errors = [];
  page.on('pageerror', (e) => page.__errors.push(String(e)));
  await page.goto('/login');
  await page.locator(tid('login-username')).fill(username);
  await page.locator(tid('login-password')).fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: DEFAULT_TIMEOUT }),
    page.locator(tid('login-submit')).click(),
  ]).catch(async (e) => {
    const err = await page.locator(tid('login-error')).innerText().catch(() => '');
    throw new Error(`login as ${username} failed: ${err || e.message}`);
  });
  // 'attached': the name is hidden by CSS on phones.
  await page.locator(tid('current-user')).waitFor({ state: 'attached' });
  return { context, page };
}

/** Waits until the task page shows `state` (after an HX-Redirect reload). */
export async function waitForState(page, state, timeout = DEFAULT_TIMEOUT) {
  try {
    await page.locator(`${tid('task-state')}[data-state="${state}"]`).waitFor({ timeout });
  } catch (e) {
    const now = await page.locator(tid('task-state')).getAttribute('data-state').catch(() => '?');
    const errs = await page.locator(tid('form-error')).allInnerTexts().catch(() => []);
    throw new Error(`expected task state ${state}, page shows ${now}; form errors: ${JSON.stringify(errs)}; ${e.message}`);
  }
}

/**
 * Opens the `<details>` of an action on a task page, fills what is given and
 * submits; waits for the reload to show `expectState`.
 */
export async function doAction(page, action, { note, assignee, score, photos, expectState } = {}) {
  const box = page.locator(tid(`action-${action}`));
  await box.waitFor();
  await page.locator(tid(`open-${action}`)).click();
  const form = box.locator('form');
  if (assignee !== undefined) await form.locator(tid(`assignee-${action}`)).selectOption(assignee);
  if (score !== undefined) await form.locator(tid('score')).selectOption(String(score));
  if (note !== undefined) await form.locator(tid(`note-${action}`)).fill(note);
  if (photos !== undefined) await form.locator(tid('photos')).setInputFiles(photos);
  await page.locator(tid(`submit-${action}`)).click();
  if (expectState) await waitForState(page, expectState);
}

/** Texts of the timeline's action labels, oldest first as rendered. */
export async function timelineActions(page) {
  return (await page.locator(`${tid('timeline')} ${tid('timeline-action')}`).allInnerTexts()).map((s) => s.trim());
}

/**
 * As a dispatcher (command room / leader) on a signed-in page: creates a task
 * in `orgLabel` and dispatches it at once to `assignee`. Returns the task id.
 */
export async function createTask(page, { title, assignee, orgLabel = '滨江社区警务区', description = '浏览器测试创建的任务' }) {
  await page.goto('/tasks/new');
  const form = page.locator(tid('new-task-form'));
  await form.waitFor();
  await form.locator(tid('task-title')).fill(title);
  // Keep the catalogue default (first item); choose the unit and the assignee.
  await form.locator(tid('task-org')).selectOption({ label: orgLabel });
  await form.locator(tid('task-description')).fill(description);
  if (assignee) await form.locator(tid('task-assignee')).selectOption(assignee);
  await form.locator(tid('task-submit')).click();
  try {
    await page.waitForURL(/\/tasks\/\d+$/, { timeout: DEFAULT_TIMEOUT });
  } catch (e) {
    const errs = await page.locator(tid('form-error')).allInnerTexts().catch(() => []);
    throw new Error(`task creation did not navigate to the task: ${JSON.stringify(errs)}; ${e.message}`);
  }
  await page.locator(tid('task-state')).waitFor();
  return Number(new URL(page.url()).pathname.split('/').pop());
}

// ---------------------------------------------------------------- PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A valid RGB PNG of a simple colour gradient (default 80×60). */
export function makePng(width = 80, height = 60) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 255);
      raw[row + 2 + x * 3] = Math.round((y / height) * 255);
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
