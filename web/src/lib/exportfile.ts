// Conversation export files (version 1 of the /api contract).
import type { ExportFile } from './api';

/** Validates an export file (ours, or hand-made) before sending it back to the server. */
export function parseExport(text: string): ExportFile {
  const data = JSON.parse(text);
  if (!data || data.version !== 1 || typeof data.conversation !== 'object' || !data.conversation || !Array.isArray(data.messages)) {
    throw new Error('not an export');
  }
  const messages = data.messages.map((m: unknown) => {
    const msg = m as { role?: unknown; content?: unknown };
    if (!['user', 'assistant', 'system'].includes(String(msg.role)) || typeof msg.content !== 'string') {
      throw new Error('bad message');
    }
    return { role: String(msg.role), content: msg.content };
  });
  const title = typeof data.conversation.title === 'string' ? data.conversation.title : '';
  return { version: 1, conversation: { title }, messages };
}
