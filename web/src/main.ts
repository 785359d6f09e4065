import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { App as AppState } from './lib/app.svelte';
import { locale } from './lib/locale.svelte';
import { applyTheme } from './lib/theme.svelte';

document.documentElement.lang = locale.lang;
applyTheme();

const app = new AppState();
mount(App, { target: document.getElementById('app')!, props: { app } });
void app.init();

// The service worker caches the app shell only (see public/sw.js); dev builds skip it.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  });
}
