// The UI language: from localStorage, else the browser's preference.
import { detectLang, formatDate, formatNumber, translate, type Key, type Lang } from './i18n';

const storageKey = 'autan.lang';

function initial(): Lang {
  const saved = localStorage.getItem(storageKey);
  if (saved === 'en' || saved === 'fr') return saved;
  return detectLang(navigator.languages?.length ? navigator.languages : [navigator.language]);
}

export const locale = $state({ lang: initial() });

export function setLang(lang: Lang): void {
  locale.lang = lang;
  localStorage.setItem(storageKey, lang);
  document.documentElement.lang = lang;
}

/** Reads locale.lang, so templates that call it update when the language changes. */
export function t(key: Key, params?: Record<string, string | number>): string {
  return translate(locale.lang, key, params);
}

export const num = (n: number, digits = 1): string => formatNumber(locale.lang, n, digits);
export const date = (ms: number): string => formatDate(locale.lang, ms);
