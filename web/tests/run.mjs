// `npm test`: builds dist/ if it is missing, prints the bundle size, then runs every test file
// (unit, offline UI, contract-mock UI, real-backend end-to-end) one file at a time with node's
// test runner in real headless Chromium. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIST_DIR, WEB_DIR } from './lib/paths.mjs';
import { BUDGET_GZIP_BYTES, bundleSize } from './size.mjs';

if (!fs.existsSync(path.join(DIST_DIR, 'index.html'))) {
  console.log('# dist/ missing: running npm run build');
  const b = spawnSync('npm', ['run', 'build'], { cwd: WEB_DIR, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const { total, files } = bundleSize();
for (const f of files) console.log(`# bundle ${f.file}: ${(f.raw / 1024).toFixed(1)} KB, ${(f.gzip / 1024).toFixed(1)} KB gzip`);
console.log(`# bundle total: ${(total.raw / 1024).toFixed(1)} KB, ${(total.gzip / 1024).toFixed(1)} KB gzip (budget ${BUDGET_GZIP_BYTES / 1024} KB)`);
if (total.gzip > BUDGET_GZIP_BYTES) {
  console.error('bundle is over its gzip budget');
  process.exit(1);
}

console.log('# type check (svelte-check)');
const check = spawnSync('npm', ['run', '--silent', 'check'], { cwd: WEB_DIR, stdio: 'inherit' });
if (check.status !== 0) {
  console.error('svelte-check failed');
  process.exit(check.status ?? 1);
}

const groups = (process.env.WEB_TEST_GROUPS ?? 'unit,ui,e2e').split(',').map((g) => g.trim()).filter(Boolean);
const testFiles = groups.flatMap((g) => {
  const dir = path.join(WEB_DIR, 'tests', g);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => path.join('tests', g, f)) : [];
});
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...testFiles], { cwd: WEB_DIR, stdio: 'inherit' });
process.exit(r.status ?? 1);
