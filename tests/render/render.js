// Renders the report dashboard as a person would see it: every ```mermaid block with the
// `mermaid` package, the rest of the Markdown with `marked`, and the SVG badge as an <img>, in
// headless Chromium (Debian's `chromium`, driven by playwright-core; no browser download, no
// network). Exits 1 with a message on any parse or render error.
//
// usage: node render.js DASHBOARD.md BADGE.svg SCREENSHOT.png
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');
const { marked } = require('marked');

function fail(msg) {
  console.error(`render check: ${msg}`);
  process.exit(1);
}

(async () => {
  const [mdPath, svgPath, pngPath] = process.argv.slice(2);
  if (!mdPath || !svgPath || !pngPath) fail('usage: node render.js DASHBOARD.md BADGE.svg OUT.png');
  const markdown = fs.readFileSync(mdPath, 'utf8');
  const badge = fs.readFileSync(svgPath);

  const charts = [];
  const withSlots = markdown.replace(/```mermaid\n([\s\S]*?)```/g, (_, code) => {
    charts.push(code);
    return `<div class="chart" data-chart="${charts.length - 1}"></div>`;
  });
  if (charts.length === 0) fail('the dashboard has no ```mermaid block');
  const body = marked.parse(withSlots);
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
    body { font-family: sans-serif; max-width: 1000px; margin: 16px; font-size: 13px; }
    table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
    .chart { width: 700px; }
  </style></head><body>
  <p><img id="badge" alt="badge" src="data:image/svg+xml;base64,${badge.toString('base64')}"></p>
  ${body}</body></html>`;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-dev-shm-usage', '--disable-extensions', '--no-first-run',
      '--disable-component-update', '--disable-default-apps', '--mute-audio'],
  }).catch((e) => fail(`cannot start /usr/bin/chromium (apt-get install chromium): ${e.message}`));
  try {
    const page = await browser.newPage({ viewport: { width: 1040, height: 800 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route('**/*', (route) => route.abort()); // no network, ever
    await page.setContent(html);
    await page.addScriptTag({ path: require.resolve('mermaid/dist/mermaid.min.js') });
    const results = await page.evaluate(async (codes) => {
      // eslint-disable-next-line no-undef
      mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
      const out = [];
      for (let i = 0; i < codes.length; i++) {
        try {
          // eslint-disable-next-line no-undef
          await mermaid.parse(codes[i]);
          // eslint-disable-next-line no-undef
          const { svg } = await mermaid.render(`chart${i}`, codes[i]);
          const slot = document.querySelector(`[data-chart="${i}"]`);
          slot.innerHTML = svg;
          const el = slot.querySelector('svg');
          const box = el.getBoundingClientRect();
          const marks = el.querySelectorAll('path, rect, polyline, line').length;
          // mermaid draws an "error" diagram instead of throwing in some versions.
          const kind = el.getAttribute('aria-roledescription');
          out.push({ ok: kind !== 'error', kind, width: box.width, height: box.height, marks });
        } catch (e) {
          out.push({ ok: false, error: String((e && e.message) || e) });
        }
      }
      const img = document.getElementById('badge');
      await img.decode().catch(() => {});
      return { charts: out, badge: { width: img.naturalWidth, height: img.naturalHeight } };
    }, charts);
    results.charts.forEach((r, i) => {
      if (!r.ok) fail(`chart ${i + 1} does not render: ${r.error || 'mermaid drew its error diagram'}`);
      if (r.kind !== 'xychart') fail(`chart ${i + 1} is a ${r.kind}, not an xychart`);
      if (!(r.width > 100 && r.height > 100)) fail(`chart ${i + 1} rendered empty (${r.width}x${r.height})`);
      if (r.marks < 5) fail(`chart ${i + 1} has no plot (${r.marks} shapes)`);
    });
    if (!(results.badge.width > 20 && results.badge.height === 20)) {
      fail(`the SVG badge does not display (${results.badge.width}x${results.badge.height})`);
    }
    if (errors.length) fail(`page errors: ${errors.join('; ')}`);
    await page.screenshot({ path: pngPath, fullPage: true });
    console.log(JSON.stringify(results));
  } finally {
    await browser.close();
  }
})().catch((e) => fail(e.stack || String(e)));
