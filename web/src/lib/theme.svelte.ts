// Light, dark, or whatever the system prefers; the CSS reads data-theme on <html>.
export type ThemeChoice = 'system' | 'light' | 'dark';
const storageKey = 'autan.theme';

function initial(): ThemeChoice {
  const saved = localStorage.getItem(storageKey);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

export const theme = $state({ choice: initial() });

export function applyTheme(): void {
  const root = document.documentElement;
  if (theme.choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', theme.choice);
}

export function setTheme(choice: ThemeChoice): void {
  theme.choice = choice;
  if (choice === 'system') localStorage.removeItem(storageKey);
  else localStorage.setItem(storageKey, choice);
  applyTheme();
}
