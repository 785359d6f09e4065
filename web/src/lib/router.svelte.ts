// Client-side routes; the server answers index.html for every path outside /api and /v1.
export type Route =
  | { name: 'chat'; id: string | null }
  | { name: 'assistants' }
  | { name: 'account' }
  | { name: 'admin' };

export function parseRoute(path: string): Route {
  const m = /^\/c\/([0-9A-Za-z_-]+)\/?$/.exec(path);
  if (m) return { name: 'chat', id: m[1] };
  if (path === '/assistants') return { name: 'assistants' };
  if (path === '/account') return { name: 'account' };
  if (path === '/admin') return { name: 'admin' };
  return { name: 'chat', id: null };
}

export const router = $state({ route: parseRoute(location.pathname) as Route });

export function navigate(path: string, replace = false): void {
  if (path !== location.pathname) {
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
  }
  router.route = parseRoute(path);
}

window.addEventListener('popstate', () => {
  router.route = parseRoute(location.pathname);
});
