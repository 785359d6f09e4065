import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// KaTeX's stylesheet lists woff2, woff and ttf for every face; every browser
// that runs this app reads woff2, so the other two would only bloat the binary.
function katexWoff2Only(): Plugin {
  return {
    name: 'autan-katex-woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/katex[\\/]dist[\\/]katex(\.min)?\.css$/.test(id)) return null;
      return code.replace(/,\s*url\([^)]*\.woff\)\s*format\("woff"\)|,\s*url\([^)]*\.ttf\)\s*format\("truetype"\)/g, '');
    },
  };
}

export default defineConfig({
  plugins: [katexWoff2Only(), svelte()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    // Fonts and images as data: URLs would be refused by the CSP (font-src 'self').
    assetsInlineLimit: 0,
    // The polyfill is only for old browsers and is one more thing to audit.
    modulePreload: { polyfill: false },
    cssCodeSplit: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` talks to a local `autan serve` for the API.
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/v1': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
