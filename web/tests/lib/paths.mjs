// Paths shared by the web tests: the web/ folder, its dist/, and <repo>/artifacts/screenshots/.
import path from 'node:path';
import fs from 'node:fs';

export const WEB_DIR = path.resolve(import.meta.dirname, '..', '..');
export const DIST_DIR = path.join(WEB_DIR, 'dist');
export const REPO_DIR = path.resolve(WEB_DIR, '..');
export const SCREENSHOT_DIR = path.join(REPO_DIR, 'artifacts', 'screenshots');

export function ensureScreenshotDir() {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return SCREENSHOT_DIR;
}

export function requireDist() {
  if (!fs.existsSync(path.join(DIST_DIR, 'index.html'))) {
    throw new Error(`web/dist/index.html is missing: run "npm run build" in ${WEB_DIR} first`);
  }
}
