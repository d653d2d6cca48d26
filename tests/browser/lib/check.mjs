// Each main page: a full-page screenshot to target/screenshots/<name>.png and an axe-core
// check with no serious or critical violations.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './server.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SHOTS = path.join(ROOT, 'target', 'screenshots');

/** Every violation found, for the summary at the end: `{ page, id, impact, help, nodes }`. */
export const found = [];

function describe(v) {
  const nodes = v.nodes
    .slice(0, 5)
    .map((n) => `    - ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}\n      ${n.html}`)
    .join('\n');
  return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
}

/** Runs axe-core in the page (evaluated through the DevTools protocol, so the page's strict CSP still applies to the page itself). */
export async function axe(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  });
}

/** Pages checked so far, by name. */
export const checked = [];

/**
 * Screenshots the page as `name` and runs axe-core on it. Violations are recorded, not thrown,
 * so one page's finding does not hide the rest of the flow; `assertAccessible` fails on them.
 */
export async function check(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const violations = await axe(page);
  checked.push(name);
  for (const v of violations) found.push({ page: name, url: page.url(), ...v });
  const minor = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) {
    console.log(`# ${name}: minor accessibility findings:\n${minor.map(describe).join('\n')}`);
  }
}

/** Fails listing every serious or critical violation on the pages checked. */
export function assertAccessible() {
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.equal(
    bad.length,
    0,
    `serious or critical accessibility violations:\n${bad.map((v) => `${v.page} (${v.url}):\n${describe(v)}`).join('\n')}`,
  );
}
