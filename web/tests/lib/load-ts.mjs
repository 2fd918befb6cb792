// Loads a TypeScript module of src/lib for node's test runner: esbuild (vite's own dependency)
// bundles it to a temporary .mjs which is then imported.
import { build } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WEB_DIR } from './paths.mjs';

export async function importTs(relPath) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-unit-'));
  const out = path.join(dir, `${path.basename(relPath, '.ts')}.mjs`);
  await build({ entryPoints: [path.join(WEB_DIR, relPath)], bundle: true, format: 'esm', platform: 'neutral', outfile: out, logLevel: 'silent' });
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
