// The /api contract (v1) between this app and `autan serve`: types and calls.
import { readJsonEvents } from './sse';

export type Role = 'admin' | 'user';
export interface User {
  id: string;
  username: string;
  role: Role;
  created_at: number;
  disabled?: boolean;
}
export interface Parameters {
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
}
export interface Conversation {
  id: string;
  title: string;
  assistant_id: string | null;
  created_at: number;
  updated_at: number;
}
export interface Stats {
  tokens?: number;
  time_to_first_token_ms?: number;
  duration_ms?: number;
  tokens_per_second?: number;
  energy_joules?: number;
}
export interface Message {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  status: 'complete' | 'streaming' | 'incomplete';
  created_at: number;
  stats?: Stats;
}
export interface Assistant {
  id: string;
  name: string;
  instructions: string;
  parameters: Parameters;
  created_at: number;
  updated_at: number;
}
export interface ApiKey {
  id: string;
  label: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked: boolean;
}
export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string;
}
export interface Info {
  model: string;
  version: string;
  /** A random-weight demo model: its answers are random text. */
  demo?: boolean;
  energy: boolean;
  energy_source?: 'rapl' | 'estimate';
  grid_gco2_per_kwh?: number;
  pue?: number;
  kwh_price?: number;
  currency?: string;
}
/** One user's use on one UTC day (GET /api/admin/usage). */
export interface UsageRow {
  day: string;
  user_id: string;
  username: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  energy_joules: number;
  co2e_grams: number;
  cost: number;
}
export interface Usage {
  from: string;
  to: string;
  currency: string;
  energy_source: 'rapl' | 'estimate';
  data: UsageRow[];
}
/** Daily caps on "user:ID" or "key:KEY"; null: no cap of that kind. */
export interface Quota {
  subject: string;
  tokens_per_day: number | null;
  joules_per_day: number | null;
}
export interface ExportFile {
  version: 1;
  conversation: Partial<Conversation> & { title: string };
  messages: { role: string; content: string }[];
}
export type StreamEvent =
  | { type: 'user'; message: Message }
  | { type: 'assistant'; message: Message }
  | { type: 'delta'; text: string }
  | { type: 'done'; message: Message }
  | { type: 'error'; error: { message: string } };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

let csrf = '';
let onUnauthorized: () => void = () => {};

export function setCsrf(token: string): void {
  csrf = token;
}
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let message = res.statusText || `HTTP ${res.status}`;
  let code: string | undefined;
  try {
    const body = await res.json();
    if (body?.error?.message) message = String(body.error.message);
    if (body?.error?.code) code = String(body.error.code);
  } catch {
    // Not JSON (a proxy's error page): keep the status text.
  }
  const retry = Number(res.headers.get('Retry-After'));
  return new ApiError(res.status, message, code, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
  if (!res.ok) {
    const err = await errorFrom(res);
    // /api/login answers 401 for bad credentials: that is not a lost session.
    if (res.status === 401 && path !== '/api/login') onUnauthorized();
    throw err;
  }
  return res;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

/** The administrator's usage, as JSON for the chart or CSV to download. */
export function usageUrl(format: 'json' | 'csv', from?: string, to?: string): string {
  let url = `/api/admin/usage?format=${format}`;
  if (from) url += `&from=${enc(from)}`;
  if (to) url += `&to=${enc(to)}`;
  return url;
}

export const api = {
  info: () => json<Info>('GET', '/api/info'),
  setupStatus: () => json<{ needs_admin: boolean }>('GET', '/api/setup'),
  setup: (username: string, password: string) =>
    json<{ user: User; csrf: string }>('POST', '/api/setup', { username, password }),
  login: (username: string, password: string) =>
    json<{ user: User; csrf: string }>('POST', '/api/login', { username, password }),
  logout: () => json<void>('POST', '/api/logout'),
  me: () => json<{ user: User; csrf: string }>('GET', '/api/me'),
  changePassword: (current_password: string, new_password: string) =>
    json<void>('PATCH', '/api/me/password', { current_password, new_password }),

  conversations: (q?: string) =>
    json<{ data: Conversation[] }>('GET', '/api/conversations' + (q ? `?q=${enc(q)}` : '')),
  createConversation: (body: { title?: string; assistant_id?: string | null }) =>
    json<Conversation>('POST', '/api/conversations', body),
  conversation: (id: string) =>
    json<{ conversation: Conversation; messages: Message[] }>('GET', `/api/conversations/${enc(id)}`),
  updateConversation: (id: string, body: { title?: string; assistant_id?: string | null }) =>
    json<Conversation>('PATCH', `/api/conversations/${enc(id)}`, body),
  deleteConversation: (id: string) => json<void>('DELETE', `/api/conversations/${enc(id)}`),
  exportConversation: (id: string) => json<ExportFile>('GET', `/api/conversations/${enc(id)}/export`),
  importConversation: (file: ExportFile) => json<Conversation>('POST', '/api/import', file),

  assistants: () => json<{ data: Assistant[] }>('GET', '/api/assistants'),
  createAssistant: (a: Pick<Assistant, 'name' | 'instructions' | 'parameters'>) =>
    json<Assistant>('POST', '/api/assistants', a),
  updateAssistant: (id: string, a: Partial<Pick<Assistant, 'name' | 'instructions' | 'parameters'>>) =>
    json<Assistant>('PATCH', `/api/assistants/${enc(id)}`, a),
  deleteAssistant: (id: string) => json<void>('DELETE', `/api/assistants/${enc(id)}`),

  keys: () => json<{ data: ApiKey[] }>('GET', '/api/keys'),
  createKey: (label: string) => json<{ key: ApiKey; secret: string }>('POST', '/api/keys', { label }),
  revokeKey: (id: string) => json<void>('DELETE', `/api/keys/${enc(id)}`),

  users: () => json<{ data: User[] }>('GET', '/api/admin/users'),
  createUser: (username: string, password: string, role: Role) =>
    json<User>('POST', '/api/admin/users', { username, password, role }),
  updateUser: (id: string, body: { disabled?: boolean; password?: string }) =>
    json<void>('PATCH', `/api/admin/users/${enc(id)}`, body),
  usage: (from?: string, to?: string) => json<Usage>('GET', usageUrl('json', from, to)),
  quotas: () => json<{ data: Quota[] }>('GET', '/api/admin/quotas'),
  setQuota: (q: Quota) => json<Quota>('PUT', '/api/admin/quotas', q),
  audit: (before?: string, limit = 50) =>
    json<{ data: AuditEntry[] }>(
      'GET',
      `/api/admin/audit?limit=${limit}` + (before ? `&before=${enc(before)}` : ''),
    ),
};

export type GenerationRequest =
  | { kind: 'send'; conversationId: string; content: string }
  | { kind: 'regenerate'; conversationId: string }
  | { kind: 'edit'; conversationId: string; messageId: string; content: string };

/** Starts a generation and yields its events; aborting `signal` stops it server-side too. */
export async function* generate(
  req: GenerationRequest,
  parameters: Parameters | undefined,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  const base = `/api/conversations/${enc(req.conversationId)}`;
  let path: string;
  let body: Record<string, unknown>;
  if (req.kind === 'send') {
    path = `${base}/messages`;
    body = { content: req.content };
  } else if (req.kind === 'regenerate') {
    path = `${base}/regenerate`;
    body = {};
  } else {
    path = `${base}/messages/${enc(req.messageId)}/edit`;
    body = { content: req.content };
  }
  if (parameters && Object.keys(parameters).length > 0) body.parameters = parameters;
  const res = await send('POST', path, body, signal);
  if (!res.body) throw new ApiError(500, 'empty response');
  for await (const ev of readJsonEvents(res.body)) yield ev as StreamEvent;
}
