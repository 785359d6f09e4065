// Per-conversation model settings, kept in this browser only.
import type { Parameters } from './api';

// null is the new chat not yet created; its settings move to it on the first message.
const key = (conversationId: string | null) => `autan.params.${conversationId ?? 'draft'}`;

export function loadParams(conversationId: string | null): Parameters {
  try {
    const raw = JSON.parse(localStorage.getItem(key(conversationId)) ?? '{}');
    return cleanParams(raw);
  } catch {
    return {};
  }
}

export function saveParams(conversationId: string | null, p: Parameters): void {
  const clean = cleanParams(p);
  if (Object.keys(clean).length === 0) localStorage.removeItem(key(conversationId));
  else localStorage.setItem(key(conversationId), JSON.stringify(clean));
}

export function forgetParams(conversationId: string): void {
  localStorage.removeItem(key(conversationId));
}

/** Keeps only finite numbers in range, so a bad value never reaches the server. */
export function cleanParams(params: object): Parameters {
  const p = params as Record<string, unknown>;
  const out: Parameters = {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const temperature = n(p.temperature);
  if (temperature !== undefined && temperature >= 0 && temperature <= 2) out.temperature = temperature;
  const maxTokens = n(p.max_tokens);
  if (maxTokens !== undefined && maxTokens >= 1) out.max_tokens = Math.floor(maxTokens);
  const topP = n(p.top_p);
  if (topP !== undefined && topP > 0 && topP <= 1) out.top_p = topP;
  return out;
}

export function adoptDraftParams(conversationId: string): void {
  const draft = loadParams(null);
  localStorage.removeItem(key(null));
  if (Object.keys(draft).length > 0) saveParams(conversationId, draft);
}
