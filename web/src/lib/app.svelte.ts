// Application state and the actions the screens call. One instance, made in
// main.ts and handed to components through context.
import { getContext, setContext } from 'svelte';
import {
  api,
  ApiError,
  generate,
  setCsrf,
  setUnauthorizedHandler,
  type Assistant,
  type Conversation,
  type ExportFile,
  type GenerationRequest,
  type Info,
  type Message,
  type User,
} from './api';
import { parseExport } from './exportfile';
import { adoptDraftParams, forgetParams, loadParams } from './settings';
import { navigate } from './router.svelte';
import { t } from './locale.svelte';

export type Phase = 'loading' | 'offline' | 'setup' | 'login' | 'ready';

export interface ConfirmRequest {
  message: string;
  confirmLabel: string;
  resolve: (ok: boolean) => void;
}

export class App {
  phase = $state<Phase>('loading');
  user = $state<User | null>(null);
  info = $state<Info | null>(null);
  conversations = $state<Conversation[]>([]);
  query = $state('');
  assistants = $state<Assistant[]>([]);
  current = $state<Conversation | null>(null);
  messages = $state<Message[]>([]);
  loadingConversation = $state(false);
  streaming = $state(false);
  streamError = $state('');
  /** Assistant chosen on the empty screen, before the conversation exists. */
  draftAssistantId = $state<string | null>(null);
  notice = $state('');
  confirmRequest = $state<ConfirmRequest | null>(null);
  drawerOpen = $state(false);
  /** Text the composer gets back when a message could not be sent at all. */
  restoredDraft = $state('');
  /** Screen readers hear this once an answer is complete (the answer itself is aria-busy meanwhile). */
  liveStatus = $state('');

  private controller: AbortController | null = null;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    setUnauthorizedHandler(() => {
      if (this.phase === 'ready') this.signedOut();
    });
  }

  async init(): Promise<void> {
    this.phase = 'loading';
    try {
      this.info = await api.info().catch(() => null);
      const { needs_admin } = await api.setupStatus();
      if (needs_admin) {
        this.phase = 'setup';
        return;
      }
      try {
        const me = await api.me();
        await this.signedIn(me.user, me.csrf);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) this.phase = 'login';
        else throw e;
      }
    } catch {
      this.phase = 'offline';
    }
  }

  async setup(username: string, password: string): Promise<void> {
    const r = await api.setup(username, password);
    await this.signedIn(r.user, r.csrf);
  }

  async login(username: string, password: string): Promise<void> {
    const r = await api.login(username, password);
    await this.signedIn(r.user, r.csrf);
  }

  async logout(): Promise<void> {
    this.stop();
    await api.logout().catch(() => undefined);
    this.signedOut();
  }

  private async signedIn(user: User, csrf: string): Promise<void> {
    setCsrf(csrf);
    this.user = user;
    this.phase = 'ready';
    await Promise.all([this.loadConversations(), this.loadAssistants()]);
  }

  private signedOut(): void {
    setCsrf('');
    this.user = null;
    this.conversations = [];
    this.assistants = [];
    this.current = null;
    this.messages = [];
    this.phase = 'login';
  }

  notify(text: string): void {
    this.notice = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = ''), 4000);
  }

  fail(e: unknown): void {
    if (e instanceof ApiError && e.status === 401) return; // already back at sign-in
    this.notify(t('common.error', { message: e instanceof Error ? e.message : String(e) }));
  }

  confirm(message: string, confirmLabel = t('common.confirm')): Promise<boolean> {
    return new Promise((resolve) => {
      this.confirmRequest = { message, confirmLabel, resolve };
    });
  }

  // Conversations -----------------------------------------------------------

  async loadConversations(q = this.query): Promise<void> {
    try {
      const { data } = await api.conversations(q.trim() || undefined);
      if (q === this.query) this.conversations = data;
    } catch (e) {
      this.fail(e);
    }
  }

  async loadAssistants(): Promise<void> {
    try {
      this.assistants = (await api.assistants()).data;
    } catch (e) {
      this.fail(e);
    }
  }

  /** Shows the conversation of the route; null is the empty "new chat" screen. */
  async open(id: string | null): Promise<void> {
    if (this.current?.id === id && id !== null) return;
    this.stop();
    this.streamError = '';
    if (id === null) {
      this.current = null;
      this.messages = [];
      return;
    }
    this.loadingConversation = true;
    try {
      const r = await api.conversation(id);
      this.current = r.conversation;
      this.messages = r.messages;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        this.notify(t('conv.notFound'));
        navigate('/', true);
        this.current = null;
        this.messages = [];
      } else this.fail(e);
    } finally {
      this.loadingConversation = false;
    }
  }

  newChat(): void {
    this.draftAssistantId = null;
    this.drawerOpen = false;
    navigate('/');
    void this.open(null);
  }

  async rename(c: Conversation, title: string): Promise<void> {
    try {
      const updated = await api.updateConversation(c.id, { title });
      this.replaceConversation(updated);
    } catch (e) {
      this.fail(e);
    }
  }

  async setAssistant(assistantId: string | null): Promise<void> {
    if (!this.current) {
      this.draftAssistantId = assistantId;
      return;
    }
    try {
      const updated = await api.updateConversation(this.current.id, { assistant_id: assistantId });
      this.replaceConversation(updated);
    } catch (e) {
      this.fail(e);
    }
  }

  async remove(c: Conversation): Promise<void> {
    const ok = await this.confirm(t('conv.deleteConfirm', { title: c.title || t('conv.untitled') }), t('conv.delete'));
    if (!ok) return;
    try {
      await api.deleteConversation(c.id);
      forgetParams(c.id);
      this.conversations = this.conversations.filter((x) => x.id !== c.id);
      if (this.current?.id === c.id) this.newChat();
    } catch (e) {
      this.fail(e);
    }
  }

  async exportConversation(c: Conversation): Promise<void> {
    try {
      const data = await api.exportConversation(c.id);
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${(c.title || 'conversation').replace(/[^\p{L}\p{N} _-]+/gu, '').trim().slice(0, 60) || 'conversation'}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      this.fail(e);
    }
  }

  async importConversation(file: File): Promise<void> {
    let parsed: ExportFile;
    try {
      parsed = parseExport(await file.text());
    } catch {
      this.notify(t('conv.importBad'));
      return;
    }
    try {
      const c = await api.importConversation(parsed);
      this.notify(t('conv.imported'));
      await this.loadConversations();
      this.drawerOpen = false;
      navigate(`/c/${c.id}`);
      await this.open(c.id);
    } catch (e) {
      this.fail(e);
    }
  }

  private replaceConversation(c: Conversation): void {
    this.conversations = this.conversations.map((x) => (x.id === c.id ? c : x));
    if (this.current?.id === c.id) this.current = c;
  }

  // Generation --------------------------------------------------------------

  async send(content: string): Promise<void> {
    const text = content.trim();
    if (!text || this.streaming) return;
    let conv = this.current;
    if (!conv) {
      try {
        conv = await api.createConversation({ title: titleFrom(text), assistant_id: this.draftAssistantId });
      } catch (e) {
        this.fail(e);
        return;
      }
      adoptDraftParams(conv.id);
      this.current = conv;
      this.messages = [];
      this.conversations = [conv, ...this.conversations];
      navigate(`/c/${conv.id}`);
    }
    this.messages.push(pending('user', text));
    const committed = await this.run({ kind: 'send', conversationId: conv.id, content: text });
    if (!committed) {
      // The server never stored it (refused, busy, offline): give the text back.
      this.messages = this.messages.filter((m) => m.id !== pendingId);
      this.restoredDraft = text;
    }
  }

  async regenerate(): Promise<void> {
    if (!this.current || this.streaming) return;
    const last = this.messages.at(-1);
    if (last?.role === 'assistant') this.messages.pop();
    await this.run({ kind: 'regenerate', conversationId: this.current.id });
  }

  async edit(messageId: string, content: string): Promise<void> {
    const text = content.trim();
    if (!this.current || this.streaming || !text) return;
    const i = this.messages.findIndex((m) => m.id === messageId);
    if (i < 0) return;
    this.messages = [...this.messages.slice(0, i), { ...this.messages[i], content: text }];
    await this.run({ kind: 'edit', conversationId: this.current.id, messageId, content: text });
  }

  /** Aborting the request is what stops generation on the server. */
  stop(): void {
    this.controller?.abort();
    this.controller = null;
  }

  /** Streams one generation; resolves to whether the server committed the user message. */
  private async run(req: GenerationRequest): Promise<boolean> {
    const controller = new AbortController();
    this.controller = controller;
    this.streaming = true;
    this.streamError = '';
    this.liveStatus = t('chat.generating');
    let answer: Message | null = null;
    let committed = req.kind === 'regenerate';
    try {
      for await (const ev of generate(req, loadParams(req.conversationId), controller.signal)) {
        if (ev.type === 'user') {
          committed = true;
          const i = this.messages.findIndex((m) => m.id === ev.message.id || m.id === pendingId);
          if (i >= 0) this.messages[i] = ev.message;
          else this.messages.push(ev.message);
        } else if (ev.type === 'assistant') {
          this.messages.push(ev.message);
          answer = this.messages[this.messages.length - 1];
        } else if (ev.type === 'delta') {
          if (!answer) {
            this.messages.push(pending('assistant', ''));
            answer = this.messages[this.messages.length - 1];
          }
          answer.content += ev.text;
        } else if (ev.type === 'done') {
          const i = this.messages.findIndex((m) => m === answer || m.id === ev.message.id);
          if (i >= 0) this.messages[i] = ev.message;
          else this.messages.push(ev.message);
          answer = null;
        } else if (ev.type === 'error') {
          this.streamError = t('chat.error', { message: ev.error?.message ?? '' });
        }
      }
    } catch (e) {
      if (controller.signal.aborted) {
        if (answer) answer.status = 'incomplete';
      } else if (e instanceof ApiError && e.status === 401) {
        return committed;
      } else {
        this.streamError = t('chat.error', { message: e instanceof Error ? e.message : String(e) });
      }
    } finally {
      if (answer && answer.status === 'streaming') answer.status = 'incomplete';
      this.messages = this.messages.filter((m) => m.id !== pendingId || m.role === 'user' || m.content !== '');
      if (this.controller === controller) this.controller = null;
      this.streaming = false;
      this.liveStatus = t('chat.answerDone');
    }
    // The server may have named the conversation and reordered the list.
    await this.loadConversations();
    const fresh = this.conversations.find((c) => c.id === req.conversationId);
    if (fresh && this.current?.id === fresh.id) this.current = fresh;
    // A stop before the first event may still have reached the server: keep the message then.
    return committed || controller.signal.aborted;
  }
}

const pendingId = 'pending';

function pending(role: 'user' | 'assistant', content: string): Message {
  return { id: pendingId, role, content, status: role === 'user' ? 'complete' : 'streaming', created_at: Date.now() };
}

function titleFrom(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  const clean = line.trim().replace(/\s+/g, ' ');
  return clean.length > 60 ? `${clean.slice(0, 57)}…` : clean;
}

const key = Symbol('app');
export const provideApp = (app: App): App => setContext(key, app);
export const useApp = (): App => getContext<App>(key);
