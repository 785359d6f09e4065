import { describe, expect, it } from 'vitest';
import { en, fr, detectLang, translate, type Key } from './i18n';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n', () => {
  it('has the same keys in French and English', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
  });

  it('has no empty string and the same placeholders in both languages', () => {
    for (const key of Object.keys(en) as Key[]) {
      expect(en[key].trim(), key).not.toBe('');
      expect(fr[key].trim(), key).not.toBe('');
      expect(placeholders(fr[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it('detects the language from navigator.languages', () => {
    expect(detectLang(['fr-FR', 'en'])).toBe('fr');
    expect(detectLang(['de-DE', 'en-GB'])).toBe('en');
    expect(detectLang(['de'])).toBe('en');
    expect(detectLang([])).toBe('en');
  });

  it('fills placeholders', () => {
    expect(translate('fr', 'stats.tokens', { n: 12 })).toBe('12 jetons');
    expect(translate('en', 'conv.deleteConfirm', { title: 'x' })).toContain('“x”');
  });

  it('is the only source of UI text: components use t() keys that exist', async () => {
    // Every t('...') key used in a component must be in the dictionary.
    const files = import.meta.glob('../**/*.svelte', { query: '?raw', import: 'default', eager: true });
    const used = new Set<string>();
    for (const src of Object.values(files) as string[]) {
      for (const m of src.matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(20);
    for (const k of used) expect(Object.keys(en), k).toContain(k);
  });
});
