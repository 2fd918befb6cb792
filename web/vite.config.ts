// Vite build of the browser UI (SPEC §9). `npm run build` writes static files to dist/,
// which the dashboard-api (local run) or dashboard-web (docker-compose) serves; the app calls
// the same-origin /api/v1. For `npm run dev` / `npm run preview`, /api is proxied to
// API_PROXY (default http://127.0.0.1:8080).
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const apiTarget = process.env.API_PROXY ?? 'http://127.0.0.1:8080';
const proxy = { '/api': { target: apiTarget, changeOrigin: false, ws: false } };

export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs: the app works wherever dist/ is mounted (hash routing, no server rewrites).
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 4096,
    chunkSizeWarningLimit: 300,
  },
  server: { proxy },
  preview: { proxy },
});
