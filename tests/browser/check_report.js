// Loads an HTML report in Debian's headless Chromium over the DevTools protocol and says whether
// it rendered: no console errors or exceptions, the summary and the first recommendation visible,
// no horizontal scrolling, at each width asked for; a PNG screenshot per width.
//
//   node --experimental-websocket check_report.js REPORT.html OUT_DIR [WIDTH ...]   (default 1280 390)
//
// Prints one JSON object; exit status 0 when every check passed, 1 otherwise, 2 on a usage or
// browser error. Needs Node 20 (its WebSocket) and chromium; no npm package.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [report, outDir, ...widthArgs] = process.argv.slice(2);
if (!report || !outDir) {
  console.error('usage: check_report.js REPORT.html OUT_DIR [WIDTH ...]');
  process.exit(2);
}
const widths = widthArgs.length ? widthArgs.map(Number) : [1280, 390];
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

function startBrowser(profile) {
  return new Promise((resolve, reject) => {
    const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
      '--disable-background-networking', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'];
    const proc = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error('chromium did not start in 60 s:\n' + err)), 60000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve({ proc, url: m[1] }); }
    });
    proc.on('exit', (code) => reject(new Error(`chromium exited with ${code}:\n${err}`)));
  });
}

class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    this.ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.id && this.pending.has(msg.id)) {
        const { resolve, reject } = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners) l(msg);
      }
    };
  }
  open() { return new Promise((resolve, reject) => { this.ws.onopen = resolve; this.ws.onerror = reject; }); }
  send(method, params = {}, sessionId) {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }
  waitFor(method, sessionId, ms = 30000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} in ${ms} ms`)), ms);
      const l = (msg) => {
        if (msg.method === method && msg.sessionId === sessionId) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((x) => x !== l);
          resolve(msg.params);
        }
      };
      this.listeners.push(l);
    });
  }
}

// Runs in the page: what a reader would see at this width.
const probe = `(() => {
  const visible = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' &&
      r.left >= 0 && r.right <= innerWidth + 1;
  };
  const summary = document.querySelector('#summary');
  const rec = document.querySelector('.recommendation');
  return {
    title: document.title,
    summary: visible(summary),
    summaryText: summary ? summary.innerText.slice(0, 200) : null,
    firstRecommendation: visible(rec),
    firstRecommendationText: rec ? rec.querySelector('h3').innerText : null,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth,
    charts: document.querySelectorAll('svg.chart').length,
    fetches: performance.getEntriesByType('resource').map((e) => e.name),
  };
})()`;

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pgopt-chromium-'));
  const { proc, url } = await startBrowser(profile);
  const result = { report, widths: [], consoleErrors: [], ok: false };
  try {
    const cdp = new Cdp(url);
    await cdp.open();
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    cdp.listeners.push((msg) => {
      if (msg.sessionId !== sessionId) return;
      if (msg.method === 'Runtime.consoleAPICalled' && (msg.params.type === 'error' || msg.params.type === 'assert'))
        result.consoleErrors.push(msg.params.args.map((a) => a.value ?? a.description).join(' '));
      if (msg.method === 'Runtime.exceptionThrown') result.consoleErrors.push(msg.params.exceptionDetails.text);
      if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error')
        result.consoleErrors.push(`${msg.params.entry.source}: ${msg.params.entry.text}`);
    });
    for (const m of ['Page.enable', 'Runtime.enable', 'Log.enable']) await cdp.send(m, {}, sessionId);
    const fileUrl = 'file://' + path.resolve(report);
    for (const width of widths) {
      await cdp.send('Emulation.setDeviceMetricsOverride',
        { width, height: 900, deviceScaleFactor: 1, mobile: width < 600 }, sessionId);
      const loaded = cdp.waitFor('Page.loadEventFired', sessionId);
      await cdp.send('Page.navigate', { url: fileUrl }, sessionId);
      await loaded;
      const { result: r } = await cdp.send('Runtime.evaluate', { expression: probe, returnByValue: true }, sessionId);
      const seen = r.value;
      const shot = await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false }, sessionId);
      const png = path.join(outDir, `report-${width}.png`);
      fs.writeFileSync(png, Buffer.from(shot.data, 'base64'));
      seen.width = width;
      seen.screenshot = png;
      seen.screenshotBytes = fs.statSync(png).size;
      seen.noHorizontalScroll = seen.scrollWidth <= seen.innerWidth + 1;
      seen.ok = seen.summary && seen.firstRecommendation && seen.noHorizontalScroll &&
        seen.fetches.every((u) => u.startsWith('file:') || u.startsWith('data:'));
      result.widths.push(seen);
    }
    result.ok = result.consoleErrors.length === 0 && result.widths.every((w) => w.ok);
  } finally {
    proc.kill('SIGTERM');  // the browser we started, by its handle
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
    // Chromium's helper processes (crashpad, utility) can still be writing into the profile for a
    // moment after the browser process exits: retry (Node retries ENOTEMPTY/EBUSY), and a profile
    // left in the temp directory is worth a warning, not a failed check of the report.
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    } catch (e) {
      console.error(`warning: could not remove ${profile}: ${e.message}`);
    }
  }
  console.log(JSON.stringify(result, null, 1));
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => { console.error(String(e.stack || e)); process.exit(2); });
