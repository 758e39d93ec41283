#!/usr/bin/env node
// Checks the issuer's portal pages in headless Chromium for tests/tests/portal_browser.rs:
// axe-core (WCAG 2.0/2.1/2.2 A and AA tags), sideways scrolling, and optional screenshots.
//
//   node tests/browser/portal.mjs SCENARIO.json     (or the scenario on standard input)
//
// {"base": "http://127.0.0.1:8080",
//  "tags": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
//  "runs": [                                     each run is one browser context (cookies kept
//    {"lang": "zh-TW", "viewport": {"width": 360, "height": 740}, "javascript": true,
//     "steps": [                                 between its steps)
//       {"open": "/sign-in"},
//       {"fill": "#subject", "value": "MO-1"},   types into a field
//       {"click": "button[type=submit]"},        and waits for the navigation
//       {"press": "Tab"},                        a key on the keyboard
//       {"wait_visible": "#x"}, {"wait_hidden": "#x"}   waits (30 s, or "timeout_ms")
//       {"check": "sign-in error"},              axe + overflow check of the page as it is now
//       {"screenshot": "/tmp/x.png"}
//       {"choose": "#format-2"},                 ticks a radio or checkbox (by click)
//       {"upload": "#photo", "file": "/tmp/face.jpg"}   chooses a file for a file input
//       {"fill_code": "#code", "outbox": "/api/v1/dev/outbox?recipient=%2B85361234567",
//        "bearer": "TOKEN"}                      types the newest 6-digit code of the outbox
//       {"expect_url": "/submitted"}             the page's URL contains it (else a failure)
//       {"expect_text": "CR-"}                   the page's text contains it
//       {"expect_value": "#name_latin", "value": "CHAN"}   a field still holds what was typed
//       {"expect_focus": "#code"}                the element with the focus
//       {"choose_file_by_keyboard": "/tmp/face.jpg"}   Space on the focused file input, and
//                                                the file picked in the chooser it opens
//   "fill_code" with "keyboard": true types the code into the focus instead.
//       {"download": "a[href^='/download/']", "save": "/tmp/c.pdf"}   clicks, saves the file
//       {"tab_to": "#usage"}                     presses Tab (at most 80 times) until that
//                                                element has the focus (keyboard-only runs)
//       {"type": "MO-1"}                         types with the keyboard into the focus
//       {"back": true}                           the browser's back button
//       {"reopen": true}                         GETs the page's own URL again
//    ]}
//  ]}
//
// Prints ONE JSON document: {"ok", "checks": [{"run", "label", "url", "title", "lang",
// "violations": [{"id", "impact", "nodes"}], "overflow": px}], "failures": [...]}. Exits 0 when
// every check passed, 1 on a violation or overflow, 2 on a usage or browser error.

import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];
const AXE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

function usage(message) {
  process.stderr.write(`portal.mjs: ${message}\n`);
  process.exit(2);
}

// A click's navigation may still be replacing the document when a check starts (seen in CI
// under load: addScriptTag found no document to append to): wait for the load and try again,
// a few times, on those errors only.
const REPLACED_DOCUMENT = /Execution context was destroyed|reading 'appendChild'|navigat/i;

async function check(page, tags, javascript) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await page.waitForLoadState('load');
      return await checkLoaded(page, tags, javascript);
    } catch (e) {
      if (attempt >= 5 || !REPLACED_DOCUMENT.test(String(e))) throw e;
      await page.waitForTimeout(250 * attempt);
    }
  }
}

async function checkLoaded(page, tags, javascript) {
  // axe is injected by the test, not served by the portal: the page's CSP is bypassed for
  // this script only in the test's browser context. With JavaScript off, axe cannot run:
  // the same pages are checked by axe in the runs with JavaScript on.
  if (!javascript) {
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    return { violations: [], axe: false, overflow, title: await page.title(), lang: await page.evaluate(() => document.documentElement.lang) };
  }
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async (runOnly) => {
    const r = await globalThis.axe.run(document, { runOnly: { type: 'tag', values: runOnly } });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  }, tags);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  const title = await page.title();
  const lang = await page.evaluate(() => document.documentElement.lang);
  return { violations: result, axe: true, overflow, title, lang };
}

async function main() {
  const arg = process.argv[2];
  const text = arg && arg !== '-' ? readFileSync(arg, 'utf8') : readFileSync(0, 'utf8');
  let scenario;
  try {
    scenario = JSON.parse(text);
  } catch (e) {
    usage(`the scenario is not JSON: ${e.message}`);
  }
  if (!scenario.base || !Array.isArray(scenario.runs)) usage('"base" and "runs" are required');
  const base = scenario.base.replace(/\/+$/, '');
  const tags = scenario.tags || ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
  const checks = [];
  const failures = [];
  for (const [index, run] of scenario.runs.entries()) {
    const profile = mkdtempSync(join(tmpdir(), 'ccr-portal-'));
    let context;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        locale: run.lang || 'en-US',
        viewport: run.viewport || { width: 360, height: 740 },
        javaScriptEnabled: run.javascript !== false,
        bypassCSP: true,
        acceptDownloads: true,
        timeout: 60000,
      });
    } catch (e) {
      rmSync(profile, { recursive: true, force: true });
      usage(`cannot start ${CHROMIUM}: ${e.message}`);
    }
    try {
      const page = context.pages()[0] || (await context.newPage());
      // File choosers are intercepted from the start: a listener added only when Space is
      // pressed can miss a chooser the page opens before the interception is in place
      // (seen in CI under load: "waiting for event filechooser" for 30 s).
      const choosers = [];
      page.on('filechooser', (chooser) => choosers.push(chooser));
      await page.waitForTimeout(0);
      for (const step of run.steps || []) {
        if (step.open) {
          await page.goto(step.open.startsWith('http') ? step.open : base + step.open);
        } else if (step.fill) {
          await page.fill(step.fill, step.value ?? '');
        } else if (step.click) {
          await Promise.all([page.waitForLoadState('load'), page.click(step.click)]);
        } else if (step.wait_visible) {
          await page.waitForSelector(step.wait_visible, { state: 'visible', timeout: step.timeout_ms || 30000 });
        } else if (step.wait_hidden) {
          await page.waitForSelector(step.wait_hidden, { state: 'hidden', timeout: step.timeout_ms || 30000 });
        } else if (step.press) {
          // Enter submits a form or follows a link: wait for the new page.
          if (step.press === 'Enter') {
            await Promise.all([page.waitForNavigation({ timeout: 30000 }), page.keyboard.press('Enter')]);
          } else {
            await page.keyboard.press(step.press);
          }
        } else if (step.check) {
          const c = await check(page, tags, run.javascript !== false);
          const entry = { run: index, label: step.check, url: page.url(), ...c };
          checks.push(entry);
          if (c.violations.length > 0) failures.push(`${step.check}: ${c.violations.map((v) => v.id).join(', ')}`);
          if (c.overflow > 0) failures.push(`${step.check}: scrolls sideways by ${c.overflow}px`);
        } else if (step.screenshot) {
          await page.screenshot({ path: step.screenshot, fullPage: true });
        } else if (step.choose) {
          await page.click(step.choose);
        } else if (step.upload) {
          await page.setInputFiles(step.upload, step.file);
        } else if (step.fill_code) {
          const res = await fetch(base + step.outbox, { headers: { authorization: `Bearer ${step.bearer}` } });
          const messages = await res.json();
          const code = (messages || [])
            .map((m) => /\b(\d{6})\b/.exec(m.body || ''))
            .find((m) => m);
          if (!code) throw new Error(`no code in the outbox: ${JSON.stringify(messages).slice(0, 300)}`);
          if (step.keyboard) await page.keyboard.type(code[1]);
          else await page.fill(step.fill_code, code[1]);
        } else if (step.expect_url) {
          if (!page.url().includes(step.expect_url)) {
            failures.push(`run ${index}: expected a URL with ${step.expect_url}, at ${page.url()}`);
          }
        } else if (step.expect_text) {
          const text = await page.evaluate(() => document.body.innerText);
          if (!text.includes(step.expect_text)) {
            failures.push(`run ${index}: expected "${step.expect_text}" on ${page.url()}: ${text.slice(0, 600)}`);
          }
        } else if (step.choose_file_by_keyboard) {
          choosers.length = 0;
          await page.keyboard.press('Space');
          for (let waited = 0; choosers.length === 0; waited += 50) {
            if (waited >= 30000) throw new Error(`Space on ${await page.evaluate(() => document.activeElement && document.activeElement.outerHTML.slice(0, 120))} opened no file chooser on ${page.url()}`);
            await page.waitForTimeout(50);
          }
          await choosers.shift().setFiles(step.choose_file_by_keyboard);
        } else if (step.expect_value) {
          const value = await page.inputValue(step.expect_value);
          if (value !== step.value) {
            failures.push(`run ${index}: ${step.expect_value} holds "${value}", not "${step.value}" on ${page.url()}`);
          }
        } else if (step.expect_focus) {
          const focused = await page.evaluate((sel) => document.activeElement && document.activeElement.matches(sel), step.expect_focus);
          if (!focused) failures.push(`run ${index}: ${step.expect_focus} does not have the focus on ${page.url()}`);
        } else if (step.download) {
          const [download] = await Promise.all([page.waitForEvent('download'), page.click(step.download)]);
          await download.saveAs(step.save);
        } else if (step.tab_to) {
          let reached = false;
          for (let i = 0; i < 80 && !reached; i++) {
            await page.keyboard.press('Tab');
            reached = await page.evaluate((sel) => document.activeElement && document.activeElement.matches(sel), step.tab_to);
          }
          if (!reached) throw new Error(`Tab never reached ${step.tab_to} on ${page.url()}`);
        } else if (step.type !== undefined) {
          await page.keyboard.type(step.type);
        } else if (step.reopen) {
          await page.goto(page.url());
        } else if (step.back) {
          await page.goBack();
        } else {
          usage(`unknown step ${JSON.stringify(step)}`);
        }
      }
    } catch (e) {
      failures.push(`run ${index}: ${e.message}`);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
  process.stdout.write(JSON.stringify({ ok: failures.length === 0, checks, failures }, null, 1) + '\n');
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((e) => usage(e.stack || String(e)));
