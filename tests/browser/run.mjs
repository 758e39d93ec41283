#!/usr/bin/env node
// Drives the verification page (web/verify-page/) in headless Chromium for tests/tests/browser.rs
// and tests/tests/issuer_verify_page.rs.
//
//   node tests/browser/run.mjs SCENARIO.json     (or the scenario on standard input)
//
// A scenario is either the short form
//   {"base": "http://127.0.0.1:8081", "token_url": "<verify URL>#<token>", "expect": "VALID"}
//   {"base": "http://127.0.0.1:8081", "pdf": "/path/file.pdf", "expect": "REVOKED"}
// or a list of steps run in one page (so the page's in-memory state is kept between them):
//   {"base": "...", "steps": [
//      {"open": "/verify#<token>"},                 URL or path under base
//      {"upload": "/path/file.pdf"},                through the file input
//      {"drop": "/path/file.pdf"},                  dropped on the drop zone
//      {"expect": "VALID", "authoritative": true, "fields": true},
//      {"recheck": true},                           the "check again" button
//      {"set_now": 1767225600},                     ?now= via history.replaceState (no reload)
//      {"lang": "pt"},                              the language switcher
//      {"screenshot": "/tmp/page.png"},
//      {"signal": "/tmp/x/shown"},                  writes that file (to sync with a test)
//      {"wait_for": "/tmp/x/go"}                    waits for that file to exist
//   ]}
// Each request observed is listed with the index of the step during which it was made and
// with "expectation": the index (among the expectations) of the next verdict it preceded.
// Optional: "forbid": "<base64url token>" fails the run if any request's URL, headers or body
// contains the token or any 16-character piece of it (base64url, base64, hex, the SPEC §4
// decimal form, or 16 raw bytes);
// "lang": the browser's language (default "en-US"); "timeout_ms" per expectation (default 20000);
// "viewport": {"width", "height"} (default 1100×900).
//
// Prints ONE JSON document on standard output: {"ok", "verdicts", "results", "requests",
// "console", "failures"}; a line per observed request on standard error. Exits 0 when every
// expectation held, 1 on a mismatch or a forbidden request, 2 on a usage or browser error.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const WINDOW = 16;

function usage(message) {
  process.stderr.write(`run.mjs: ${message}\n`);
  process.exit(2);
}

function readScenario() {
  const arg = process.argv[2];
  const text = arg && arg !== '-' ? readFileSync(arg, 'utf8') : readFileSync(0, 'utf8');
  let s;
  try {
    s = JSON.parse(text);
  } catch (e) {
    usage(`the scenario is not JSON: ${e.message}`);
  }
  if (!s.base) usage('the scenario has no "base"');
  if (!s.steps) {
    if (s.token_url) s.steps = [{ open: s.token_url }];
    else if (s.pdf) s.steps = [{ open: '/verify' }, { upload: s.pdf }];
    else usage('the scenario has no "steps", "token_url" or "pdf"');
    if (s.expect) s.steps.push({ expect: s.expect });
  }
  return s;
}

/** SPEC §4 decimal form: 7-byte groups as 17 digits, a last group of n bytes as WIDTHS[n]. */
function decimal(bytes) {
  const WIDTHS = [0, 3, 5, 8, 10, 13, 15, 17];
  let out = '';
  for (let i = 0; i < bytes.length; i += 7) {
    const group = bytes.subarray(i, i + 7);
    const value = group.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
    out += value.toString().padStart(WIDTHS[group.length], '0');
  }
  return out;
}

/** Every 16-character (or 16-byte) piece of the token, in the encodings a leak could take. */
function forbiddenPieces(token) {
  const text = [token, token.replace(/-/g, '+').replace(/_/g, '/')];
  const raw = Buffer.from(token, 'base64url');
  text.push(raw.toString('hex'), decimal(raw));
  const strings = new Set();
  for (const t of text) {
    for (let i = 0; i + WINDOW <= t.length; i++) strings.add(t.slice(i, i + WINDOW));
  }
  const bytes = [];
  for (let i = 0; i + WINDOW <= raw.length; i++) bytes.push(raw.subarray(i, i + WINDOW));
  return { strings: [...strings], bytes };
}

function leaks(pieces, haystackText, haystackBytes) {
  if (!pieces) return null;
  for (const p of pieces.strings) {
    if (haystackText.includes(p)) return p;
  }
  if (haystackBytes && haystackBytes.length >= WINDOW) {
    for (const p of pieces.bytes) {
      if (haystackBytes.indexOf(p) >= 0) return `<${WINDOW} raw bytes of the token>`;
    }
    const asText = haystackBytes.toString('latin1');
    for (const p of pieces.strings) {
      if (asText.includes(p)) return p;
    }
  }
  return null;
}

async function main() {
  const scenario = readScenario();
  const base = scenario.base.replace(/\/+$/, '');
  const timeout = scenario.timeout_ms || 20000;
  const pieces = scenario.forbid ? forbiddenPieces(scenario.forbid) : null;

  const profile = mkdtempSync(join(tmpdir(), 'ccr-chromium-'));
  const requests = [];
  const consoleLines = [];
  const failures = [];
  const results = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      locale: scenario.lang || 'en-US',
      viewport: scenario.viewport || { width: 1100, height: 900 },
      timeout: 60000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    process.stderr.write(`run.mjs: cannot start ${CHROMIUM}: ${e.message}\n`);
    process.exit(2);
  }

  const pending = [];
  let currentStep = -1;
  context.on('request', (request) => {
    const body = request.postDataBuffer();
    const headers = request.headers();
    const entry = {
      method: request.method(),
      url: request.url(),
      resource_type: request.resourceType(),
      // What the body holds as far as the browser lets us see it; a Blob body (a PDF upload)
      // is not exposed, so its size comes from the network stack once the request is done.
      post_length: body ? body.length : 0,
      post_inspected: !!body,
      step: currentStep,
      // The verdict this request led to: the index of the next expectation to complete.
      expectation: results.length,
    };
    requests.push(entry);
    process.stderr.write(`request: ${entry.method} ${entry.url} (body ${body ? body.length : '?'} bytes)\n`);
    if (!body && entry.method !== 'GET' && entry.method !== 'HEAD') {
      pending.push(
        request
          .response()
          .then(() => request.sizes())
          .then((sizes) => {
            entry.post_length = sizes.requestBodySize;
          })
          .catch(() => {}),
      );
    }
    const headerText = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\n');
    const leak = leaks(pieces, `${entry.url}\n${headerText}`, body);
    if (leak) {
      entry.carries_token = true;
      failures.push(`request ${entry.method} ${entry.url} carries a piece of the token (${leak})`);
    }
  });

  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (msg) => {
      const line = `${msg.type()}: ${msg.text()}`;
      consoleLines.push(line);
      if (/Content[- ]Security[- ]Policy/i.test(msg.text())) failures.push(`CSP violation: ${msg.text()}`);
    });
    page.on('pageerror', (err) => {
      consoleLines.push(`pageerror: ${err.message}`);
      failures.push(`uncaught error in the page: ${err.message}`);
    });

    let lastRun = 0;
    for (const [index, step] of scenario.steps.entries()) {
      currentStep = index;
      if (step.open !== undefined) {
        const url = /^https?:/.test(step.open) ? step.open : `${base}${step.open}`;
        await page.goto(url, { waitUntil: 'load', timeout });
        lastRun = 0;
      } else if (step.upload !== undefined) {
        await page.setInputFiles('#file', step.upload);
      } else if (step.drop !== undefined) {
        const data = readFileSync(step.drop).toString('base64');
        await page.evaluate(
          ({ data, name }) => {
            const bin = atob(data);
            const bytes = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: 'application/pdf' }));
            const zone = document.getElementById('dropzone');
            for (const type of ['dragenter', 'dragover', 'drop']) {
              zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
            }
          },
          { data, name: basename(step.drop) },
        );
      } else if (step.recheck) {
        await page.click('#recheck', { timeout });
      } else if (step.set_now !== undefined) {
        await page.evaluate((now) => {
          const u = new URL(location.href);
          u.searchParams.set('now', String(now));
          history.replaceState(null, '', u.href);
        }, step.set_now);
      } else if (step.lang !== undefined) {
        await page.selectOption('#lang', step.lang);
      } else if (step.signal !== undefined) {
        writeFileSync(step.signal, 'ok\n');
      } else if (step.wait_for !== undefined) {
        const deadline = Date.now() + (step.timeout_ms || 120000);
        while (!existsSync(step.wait_for)) {
          if (Date.now() > deadline) throw new Error(`${step.wait_for} did not appear in time`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } else if (step.screenshot !== undefined) {
        await page.screenshot({ path: step.screenshot, fullPage: true });
      } else if (step.expect !== undefined) {
        const handle = await page
          .waitForFunction(
            (after) => {
              const v = document.getElementById('verdict');
              return v && v.dataset.verdict && Number(v.dataset.run) > after ? v.dataset.run : null;
            },
            lastRun,
            { timeout },
          )
          .catch(() => null);
        if (!handle) {
          failures.push(`no verdict shown within ${timeout} ms (expected ${step.expect})`);
          results.push({ expected: step.expect, verdict: null, step: index });
          continue;
        }
        lastRun = Number(await handle.jsonValue());
        const shown = await page.evaluate(() => {
          const v = document.getElementById('verdict');
          const age = document.getElementById('status-age');
          const fields = {};
          for (const f of document.querySelectorAll('#fields [data-field]')) {
            fields[f.dataset.field] = f.querySelector('dd').textContent;
          }
          return {
            verdict: v.dataset.verdict,
            label: document.getElementById('verdict-label').textContent,
            sentence: document.getElementById('verdict-sentence').textContent,
            checks: [...document.querySelectorAll('#checks [data-check]')].map((c) => ({
              name: c.dataset.check,
              outcome: c.dataset.outcome,
              detail: c.querySelector('.check-detail').textContent,
            })),
            fields,
            fields_shown: !document.getElementById('fields-panel').hidden,
            status_age: age.hidden ? null : age.textContent,
            authoritative: age.hidden ? null : age.dataset.authoritative === 'true',
          };
        });
        shown.expected = step.expect;
        shown.step = index;
        results.push(shown);
        process.stderr.write(`verdict: ${shown.verdict} (expected ${step.expect}); status: ${shown.status_age}\n`);
        if (shown.verdict !== step.expect) {
          failures.push(`verdict ${shown.verdict}, expected ${step.expect}: ${JSON.stringify(shown.checks)}`);
        }
        if (step.authoritative !== undefined && shown.authoritative !== step.authoritative) {
          failures.push(`status authoritative ${shown.authoritative}, expected ${step.authoritative} (${shown.status_age})`);
        }
        if (step.fields !== undefined && shown.fields_shown !== step.fields) {
          failures.push(`fields shown: ${shown.fields_shown}, expected ${step.fields}`);
        }
      } else {
        throw new Error(`unknown step ${JSON.stringify(step)}`);
      }
    }
  } catch (e) {
    failures.push(`browser error: ${e.message}`);
  } finally {
    await Promise.all(pending);
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }

  const out = {
    ok: failures.length === 0,
    verdicts: results.map((r) => r.verdict),
    results,
    requests,
    console: consoleLines,
    failures,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  for (const f of failures) process.stderr.write(`FAIL: ${f}\n`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`run.mjs: ${e.stack || e}\n`);
  process.exit(2);
});
