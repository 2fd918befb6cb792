// Prints the size of the built app (web/dist): every file raw and gzipped, and the totals.
// Exits non-zero when dist/ is missing or the gzipped total passes the 300 KB budget.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DIST_DIR } from './lib/paths.mjs';

export const BUDGET_GZIP_BYTES = 300 * 1024;

export function bundleSize() {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const data = fs.readFileSync(p);
        files.push({ file: path.relative(DIST_DIR, p), raw: data.length, gzip: zlib.gzipSync(data, { level: 9 }).length });
      }
    }
  };
  walk(DIST_DIR);
  const total = files.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
  return { files, total };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!fs.existsSync(path.join(DIST_DIR, 'index.html'))) {
    console.error('web/dist is missing: run "npm run build" first');
    process.exit(1);
  }
  const { files, total } = bundleSize();
  for (const f of files) console.log(`${f.file.padEnd(36)} ${kb(f.raw).padStart(10)} ${kb(f.gzip).padStart(10)} gzip`);
  console.log(`${'TOTAL'.padEnd(36)} ${kb(total.raw).padStart(10)} ${kb(total.gzip).padStart(10)} gzip (budget ${kb(BUDGET_GZIP_BYTES)})`);
  if (total.gzip > BUDGET_GZIP_BYTES) process.exit(1);
}
