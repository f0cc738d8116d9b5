// The web client (client/web) in a real browser: Debian's chromium driven by
// playwright-core, two browser contexts (two users) chatting through a real server
// that serves the built client at `/`. Installs chromium as root when missing, else fails (never skips).
// On failure both pages are saved to .data/screenshots/; WEB_CLIENT_SCREENSHOT=<path>
// saves the README picture after a passing run.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium } from '../helpers/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV } from '../helpers/chat';
import { ROOT } from '../helpers/cluster';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DIST = path.join(ROOT, '.data', 'test', 'web-client-dist');
const SHOTS = path.join(ROOT, '.data', 'screenshots');
/** Polls a page until the expectation holds (vitest's default of 1 s is short for a browser on a busy machine). */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 10_000, interval: 100 });
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('web client in chromium', () => {
  let t: TestApp;
  let browser: Browser;
  const pages: Record<string, Page> = {};

  beforeAll(async () => {
    ensureChromium(CHROMIUM);
    // Build the client into a private directory, so the test never serves a stale build.
    const built = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'client/web/vite.config.ts', '--outDir', DIST, '--emptyOutDir'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
    t = await startTestApp({ ...CHAT_ENV, WEB_CLIENT: 'true', WEB_CLIENT_DIR: DIST });
    // Playwright launches with a fresh temporary --user-data-dir of its own per launch.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function newPage(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    pages[name] = page;
    await page.goto(t.url);
    return page;
  }

  async function registerIn(page: Page, username: string): Promise<void> {
    await page.getByTestId('username').fill(username);
    await page.getByTestId('password').fill('correct-horse-battery');
    await page.getByTestId('register').click();
    await poll(() => page.getByTestId('me').textContent()).toBe(username);
    await poll(() => page.getByTestId('status').textContent()).toBe('connected');
  }

  /** Runs the steps; on failure saves a screenshot of each page and says where. */
  async function withScreenshots(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (err) {
      fs.mkdirSync(SHOTS, { recursive: true });
      const saved: string[] = [];
      for (const [name, page] of Object.entries(pages)) {
        const file = path.join(SHOTS, `web-client-${name}-${Date.now()}.png`);
        await page.screenshot({ path: file, fullPage: true }).then(() => saved.push(file), () => undefined);
      }
      (err as Error).message += `\nscreenshots: ${saved.join(', ')}`;
      throw err;
    }
  }

  it('serves the client at / and two users chat: rooms, typing, presence, read marks, unread, DMs, scroll-back', async () => {
    await withScreenshots(async () => {
      const alice = await newPage('alice');
      const bob = await newPage('bob');
      const tag = crypto.randomBytes(3).toString('hex');
      await registerIn(alice, `alice_${tag}`);
      await registerIn(bob, `bob_${tag}`);

      // Alice creates a room; Bob joins it by id.
      await alice.getByTestId('new-room-name').fill('lobby');
      await alice.getByTestId('create-room').click();
      await poll(() => alice.getByTestId('room-title').textContent()).toBe('# lobby');
      const roomId = (await alice.getByTestId('room-id').textContent())!;
      await bob.getByTestId('join-room-id').fill(roomId);
      await bob.getByTestId('join-room').click();
      await poll(() => bob.getByTestId('room-title').textContent()).toBe('# lobby');

      // Presence: Alice sees two members online.
      await poll(() => alice.locator('[data-testid=member][data-online=true]').count()).toBe(2);

      // Typing, then messages both ways.
      await bob.getByTestId('composer').fill('hel');
      await poll(() => alice.getByTestId('typing').textContent()).toContain('typing');
      await bob.getByTestId('composer').fill('hello alice');
      await bob.getByTestId('send').click();
      await poll(() => alice.getByTestId('messages').textContent()).toContain('hello alice');
      await poll(() => alice.getByTestId('typing').textContent()).toBe('');
      await alice.getByTestId('composer').fill('hi bob');
      await alice.getByTestId('composer').press('Enter');
      await poll(() => bob.getByTestId('messages').textContent()).toContain('hi bob');

      // Read marks: Bob has the room open, so he reads Alice's message and she sees it.
      await poll(() => alice.locator('[data-seq="2"] .reads').textContent()).toContain('seen by');

      const shot = process.env.WEB_CLIENT_SCREENSHOT;
      if (shot) {
        await bob.getByTestId('composer').fill('see you at the standup');
        await bob.getByTestId('send').click();
        await poll(() => alice.getByTestId('messages').textContent()).toContain('standup');
        await bob.getByTestId('composer').fill('on my way');
        await poll(() => alice.getByTestId('typing').textContent()).toContain('typing');
        await alice.screenshot({ path: path.resolve(ROOT, shot) });
        await bob.getByTestId('composer').fill('');
      }

      // A DM from Alice shows up in Bob's room list with an unread count.
      await alice.locator('[data-testid=member]:not(.me)').click();
      await poll(() => alice.getByTestId('room-title').textContent()).toMatch(/^@ /);
      await alice.getByTestId('composer').fill('psst, a direct message');
      await alice.getByTestId('send').click();
      const bobDm = bob.locator('[data-testid=rooms] li', { hasText: '@' });
      await poll(() => bobDm.locator('[data-testid=unread]').textContent()).toBe('1');
      await bobDm.click();
      await poll(() => bob.getByTestId('messages').textContent()).toContain('psst, a direct message');
      await poll(() => bobDm.locator('[data-testid=unread]').count()).toBe(0);

      // Scroll-back: 40 more messages in the lobby; Bob opens it and loads older pages.
      const token = JSON.parse((await alice.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('chat.session')))!).token as string;
      for (let i = 1; i <= 40; i++) {
        const res = await fetch(`${t.url}/api/v1/rooms/${roomId}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ clientMsgId: `bulk-${i}`, text: `bulk ${i}` }),
        });
        expect(res.status).toBe(201);
      }
      const bobLobby = bob.locator('[data-testid=rooms] li', { hasText: '# lobby' });
      await poll(() => bobLobby.locator('[data-testid=unread]').textContent()).toBe('40');
      await bobLobby.click();
      await poll(() => bob.getByTestId('message').count()).toBe(30);
      await bob.getByTestId('older').click();
      await poll(() => bob.getByTestId('message').count()).toBe(shot ? 43 : 42); // two chat lines (three with the picture's) and 40 bulk
      expect(await bob.locator('[data-testid=message]').first().getAttribute('data-seq')).toBe('1');
      expect(await bob.getByTestId('older').isHidden()).toBe(true);

    });
  });

  it('the server answers / with the client and keeps the API and sockets beside it', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<main id="app">');
    expect((await fetch(`${t.url}/api/v1/openapi.json`)).status).toBe(200);
    expect((await fetch(`${t.url}/no-such-page`)).status).toBe(404);
  });
});
