import { describe, expect, it } from 'vitest';
import { parseExport } from './exportfile';
import { cleanParams } from './settings';

describe('parseExport', () => {
  it('keeps the title and each message role and content, dropping the rest', () => {
    const file = {
      version: 1,
      conversation: { id: 'abc', title: 'Budget 2025', assistant_id: null, created_at: 1, updated_at: 2 },
      messages: [
        { id: '1', role: 'user', content: 'Hi', status: 'complete', created_at: 1, stats: {} },
        { id: '2', role: 'assistant', content: 'Hello', status: 'complete', created_at: 2, stats: { tokens: 1 } },
      ],
    };
    expect(parseExport(JSON.stringify(file))).toEqual({
      version: 1,
      conversation: { title: 'Budget 2025' },
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    });
  });

  it.each([
    'not json',
    '{}',
    '{"version":2,"conversation":{},"messages":[]}',
    '{"version":1,"conversation":{},"messages":{}}',
    '{"version":1,"conversation":{},"messages":[{"role":"tool","content":"x"}]}',
    '{"version":1,"conversation":{},"messages":[{"role":"user","content":5}]}',
  ])('rejects %s', (text) => {
    expect(() => parseExport(text)).toThrow();
  });
});

describe('cleanParams', () => {
  it('keeps numbers in range and drops the rest', () => {
    expect(cleanParams({ temperature: 0.7, max_tokens: 256.9, top_p: 0.9 })).toEqual({ temperature: 0.7, max_tokens: 256, top_p: 0.9 });
    expect(cleanParams({ temperature: 3, max_tokens: 0, top_p: 0 })).toEqual({});
    expect(cleanParams({ temperature: '1', max_tokens: NaN, top_p: null })).toEqual({});
    expect(cleanParams({ temperature: 0 })).toEqual({ temperature: 0 });
  });
});
