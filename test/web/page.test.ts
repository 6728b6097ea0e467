// The web page (web/, `npm run web`, `tcpts web`) in a real browser:
// Debian's chromium, headless, driven by playwright-core. The site is built
// into a temporary directory and served by tcpts web's own file server.
// Skipped, with the reason, where chromium (or, for the capture test,
// tshark) is missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serveWeb, type WebServer } from '../../src/cli/web.js';
import { CHROMIUM, chromiumSkipReason } from '../helpers/browser.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CAPTURES = ['tcp-sack.pcap', 'handshake-data-close.pcap', 'tcp-ipv6-rst.pcap'];

interface BuildResult {
  outdir: string;
  bytes: number;
  gzipBytes: number;
}

let site: string | null = null;
let server: WebServer | null = null;
let browser: BrowserContext | null = null;
let userDataDir: string | null = null;
const skip = chromiumSkipReason();

before(async () => {
  if (skip !== false) return;
  site = mkdtempSync(join(tmpdir(), 'tcpts-web-site-'));
  // A variable path: the build script is plain JavaScript without types.
  const script = join(ROOT, 'scripts', 'build-web.mjs');
  const { buildWeb } = (await import(script)) as {
    buildWeb(outdir: string): Promise<BuildResult>;
  };
  const built = await buildWeb(site);
  assert.ok(built.gzipBytes > 0);
  server = await serveWeb(site);
  userDataDir = mkdtempSync(join(tmpdir(), 'tcpts-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (site !== null) rmSync(site, { recursive: true, force: true });
  if (userDataDir !== null) rmSync(userDataDir, { recursive: true, force: true });
});

/** A fresh page at the site, its console errors collected. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(server!.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { page, errors };
}

async function states(page: Page): Promise<{ step: number; client: string; server: string }> {
  return {
    step: Number(await page.locator('#step-label').getAttribute('data-step')),
    client: (await page.locator('#client-state').textContent()) ?? '',
    server: (await page.locator('#server-state').textContent()) ?? '',
  };
}

test('web page: loads with no console errors and draws the handshake scenario', async (t) => {
  if (skip !== false) return t.skip(skip);
  const { page, errors } = await openPage();
  try {
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('#scenario').inputValue(), 'handshake');
    assert.ok((await page.locator('#ladder svg line.arrow').count()) >= 10);
    assert.equal(await page.locator('#state-figure svg g.state').count(), 12);
    assert.ok((await page.locator('#packets tr').count()) >= 10);
  } finally {
    await page.close();
  }
});

test('web page: the handshake reaches ESTABLISHED on both sides, then TIME-WAIT; back returns to SYN-SENT', async (t) => {
  if (skip !== false) return t.skip(skip);
  const { page, errors } = await openPage();
  try {
    const total = await page.locator('#packets tr').count();
    assert.deepEqual(await states(page), { step: 0, client: 'CLOSED', server: 'LISTEN' });
    const seen: Array<{ step: number; client: string; server: string }> = [];
    for (let i = 0; i < total; i++) {
      await page.click('#step-forward');
      seen.push(await states(page));
    }
    assert.equal(seen[seen.length - 1]!.step, total);
    assert.ok(
      seen.some((s) => s.client === 'ESTABLISHED' && s.server === 'ESTABLISHED'),
      `both ESTABLISHED at some step: ${JSON.stringify(seen)}`,
    );
    assert.equal(seen[seen.length - 1]!.client, 'TIME-WAIT');
    // Figure 5 lights the client's TIME-WAIT box.
    assert.equal(
      await page.locator('#state-figure g.state.client').getAttribute('data-state'),
      'TIME-WAIT',
    );
    // A screenshot of the page mid-way, for a person to look at (the path is
    // in the test's diagnostics); the check here is only that one was made.
    for (let i = total; i > 5; i--) await page.click('#step-back');
    const shot = join(ROOT, 'tmp', 'web-page-handshake.png');
    const png = await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
    t.diagnostic(`screenshot of the page at packet 5: ${shot}`);
    for (let i = 5; i > 1; i--) await page.click('#step-back');
    assert.deepEqual(await states(page), { step: 1, client: 'SYN-SENT', server: 'SYN-RECEIVED' });
    await page.click('#step-back');
    assert.deepEqual(await states(page), { step: 0, client: 'CLOSED', server: 'LISTEN' });
    assert.match((await page.locator('#why').textContent()) ?? '', /Before the first packet/);
    await page.click('#step-forward');
    assert.match((await page.locator('#why').textContent()) ?? '', /SYN/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('web page: the step buttons and the arrow keys work from the keyboard', async (t) => {
  if (skip !== false) return t.skip(skip);
  const { page } = await openPage();
  try {
    await page.focus('#step-forward');
    await page.keyboard.press('Enter');
    assert.equal((await states(page)).step, 1);
    await page.keyboard.press('Space');
    assert.equal((await states(page)).step, 2);
    // Shift-Tab reaches Play, then Back, from the keyboard alone.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'step-back');
    await page.keyboard.press('Enter');
    assert.equal((await states(page)).step, 1);
    // Outside a form field, → and ← step.
    await page.evaluate('document.activeElement.blur()');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal((await states(page)).step, 3);
    await page.keyboard.press('ArrowLeft');
    assert.equal((await states(page)).step, 2);
  } finally {
    await page.close();
  }
});

/** tshark's view of a capture: its TCP conversations and the frames its expert info flags. */
function tsharkView(file: string): {
  conversations: string[];
  retransmissions: number[];
  dupAcks: number[];
  expertRetransmissions: number;
} {
  const run = (args: string[]): string => {
    const r = spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const conversations = run(['-q', '-z', 'conv,tcp'])
    .split('\n')
    .filter((line) => line.includes('<->'))
    .map((line) => {
      const [a, , b] = line.trim().split(/\s+/);
      return [a!, b!].sort().join(' ');
    })
    .sort();
  const frames = (filter: string): number[] =>
    run(['-Y', filter, '-T', 'fields', '-e', 'frame.number'])
      .split('\n')
      .filter((x) => x !== '')
      .map(Number);
  // The summary -z expert prints: how many frames are (suspected) retransmissions.
  let expertRetransmissions = 0;
  for (const line of run(['-q', '-z', 'expert']).split('\n')) {
    const m = /^\s*(\d+)\s+Sequence\s+TCP\s+This frame is a \(suspected\) retransmission/.exec(
      line,
    );
    if (m !== null) expertRetransmissions += Number(m[1]);
  }
  return {
    conversations,
    retransmissions: frames('tcp.analysis.retransmission'),
    dupAcks: frames('tcp.analysis.duplicate_ack'),
    expertRetransmissions,
  };
}

/** "[fd77:7::1]:40011" as tshark writes it: "fd77:7::1:40011". */
function unbracket(endpoint: string): string {
  return endpoint.replace(/^\[(.*)\]:(\d+)$/, '$1:$2');
}

test('web page: a capture of real Linux traffic lists the same connections and retransmissions as tshark', async (t) => {
  if (skip !== false) return t.skip(skip);
  if (spawnSync('tshark', ['--version']).status !== 0)
    return t.skip('no tshark (scripts/ensure-tools.sh installs it as root)');
  const { page, errors } = await openPage();
  try {
    for (const name of CAPTURES) {
      const file = join(ROOT, 'fixtures', 'pcap', name);
      assert.ok(existsSync(file), file);
      const expected = tsharkView(file);
      await page.setInputFiles('#file', file);
      await page.locator('#capture-info', { hasText: name }).waitFor();
      const connections: string[] = [];
      for (const row of await page.locator('#connections tr').all()) {
        const cells = await row.locator('td').allTextContents();
        connections.push([unbracket(cells[1]!), unbracket(cells[2]!)].sort().join(' '));
      }
      const framesOf = async (flag: string): Promise<number[]> => {
        const frames: number[] = [];
        for (const row of await page.locator(`#expert tr[data-flag="${flag}"]`).all())
          frames.push(Number(await row.getAttribute('data-frame')));
        return frames;
      };
      const shown = {
        retransmissions: await framesOf('retransmission'),
        dupAcks: await framesOf('dup ack'),
      };
      assert.deepEqual(connections.sort(), expected.conversations, `${name}: connections`);
      assert.deepEqual(shown.retransmissions, expected.retransmissions, `${name}: retransmissions`);
      assert.equal(
        shown.retransmissions.length,
        expected.expertRetransmissions,
        `${name}: -z expert count`,
      );
      assert.deepEqual(shown.dupAcks, expected.dupAcks, `${name}: duplicate ACKs`);
    }
    // tcp-sack.pcap has two retransmissions: the packets table names them, and says why.
    await page.setInputFiles('#file', join(ROOT, 'fixtures', 'pcap', 'tcp-sack.pcap'));
    await page.waitForSelector('#packets tr[data-role="retransmission"]');
    await page.click('#packets tr[data-role="retransmission"]');
    assert.match((await page.locator('#why').textContent()) ?? '', /Retransmission/);
    assert.match((await page.locator('#fields').textContent()) ?? '', /retransmission/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
