import { describe, expect, it } from 'vitest';
import { SseParser, readJsonEvents } from './sse';

function feed(chunks: string[]) {
  const p = new SseParser();
  const out = chunks.flatMap((c) => p.push(c));
  return [...out, ...p.end()];
}

function stream(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(typeof x === 'string' ? enc.encode(x) : x);
      c.close();
    },
  });
}

describe('SseParser', () => {
  it('parses events ending with LF, CRLF or CR', () => {
    const evs = feed(['data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n']);
    expect(evs.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('joins multi-line data, keeps event names and skips comments', () => {
    const evs = feed([': keep-alive\n', 'event: x\ndata: one\ndata:two\nid: 7\n\n']);
    expect(evs).toEqual([{ event: 'x', data: 'one\ntwo', id: '7' }]);
  });

  it('handles chunks split anywhere, including inside CRLF', () => {
    const text = 'data: {"type":"delta","text":"Bon"}\r\n\r\ndata: {"type":"delta","text":"jour"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const evs = feed([text.slice(0, cut), text.slice(cut)]);
      expect(evs.map((e) => e.data)).toEqual(['{"type":"delta","text":"Bon"}', '{"type":"delta","text":"jour"}']);
    }
    const oneByOne = feed(text.split(''));
    expect(oneByOne).toHaveLength(2);
  });

  it('drops an event without its closing blank line and ignores blank lines alone', () => {
    expect(feed(['\n\n\ndata: x\n\ndata: partial'])).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('keeps only the first space after the colon', () => {
    expect(feed(['data:  two spaces\n\n'])[0].data).toBe(' two spaces');
  });
});

describe('readJsonEvents', () => {
  it('decodes UTF-8 split across chunks and parses JSON', async () => {
    const bytes = new TextEncoder().encode('data: {"type":"delta","text":"héllo €"}\n\n');
    const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
    const got = [];
    for await (const e of readJsonEvents(stream(chunks))) got.push(e);
    expect(got).toEqual([{ type: 'delta', text: 'héllo €' }]);
  });

  it('stops at [DONE]', async () => {
    const got = [];
    for await (const e of readJsonEvents(stream(['data: {"a":1}\n\ndata: [DONE]\n\ndata: {"a":2}\n\n']))) got.push(e);
    expect(got).toEqual([{ a: 1 }]);
  });

  it('reads a whole generation in contract order', async () => {
    const lines = [
      { type: 'user', message: { id: 'u', role: 'user', content: 'hi' } },
      { type: 'assistant', message: { id: 'a', role: 'assistant', content: '', status: 'streaming' } },
      { type: 'delta', text: 'Hel' },
      { type: 'delta', text: 'lo' },
      { type: 'done', message: { id: 'a', role: 'assistant', content: 'Hello', status: 'complete', stats: { tokens: 2 } } },
    ];
    const got = [];
    const body = lines.map((l) => `data: ${JSON.stringify(l)}\n\n`).join('');
    for await (const e of readJsonEvents(stream([body.slice(0, 50), body.slice(50)]))) got.push(e);
    expect(got).toEqual(lines);
  });
});
