import { describe, expect, it } from 'vitest';
import type { Message, UsageRow } from './api';
import { co2eGrams, conversationTotals, cost, energyUnit, usageChart } from './energy';

const pricing = { grid_gco2_per_kwh: 50, pue: 1.5, kwh_price: 0.2, currency: 'EUR' };

function row(day: string, username: string, joules: number, tokens = 0): UsageRow {
  return {
    day,
    user_id: username,
    username,
    requests: 1,
    prompt_tokens: tokens,
    completion_tokens: 0,
    energy_joules: joules,
    co2e_grams: 0,
    cost: 0,
  };
}

describe('energy', () => {
  it('turns joules into carbon and money as the server does', () => {
    // 3.6 MJ = 1 kWh; x 1.5 PUE = 1.5 kWh.
    expect(co2eGrams(3.6e6, pricing)).toBeCloseTo(75);
    expect(cost(7.2e6, pricing)).toBeCloseTo(0.6);
    expect(co2eGrams(0, pricing)).toBe(0);
  });

  it('sums the answers of a conversation', () => {
    const messages = [
      { id: 'q', role: 'user', content: 'hi', status: 'complete', created_at: 0 },
      { id: 'a', role: 'assistant', content: 'x', status: 'complete', created_at: 1, stats: { tokens: 10, duration_ms: 1500, energy_joules: 2.5 } },
      { id: 'b', role: 'assistant', content: 'y', status: 'incomplete', created_at: 2, stats: { tokens: 4, energy_joules: 0.5 } },
    ] as Message[];
    expect(conversationTotals(messages)).toEqual({ answers: 2, tokens: 14, seconds: 1.5, joules: 3 });
  });

  it('picks a readable unit', () => {
    expect(energyUnit(12)).toEqual({ value: 12, unit: 'J' });
    expect(energyUnit(36000)).toEqual({ value: 10, unit: 'Wh' });
    expect(energyUnit(3.6e8)).toEqual({ value: 100, unit: 'kWh' });
  });

  it('stacks each day\'s users into bars scaled to the tallest day', () => {
    const rows = [row('2025-01-02', 'bob', 30), row('2025-01-01', 'alice', 10), row('2025-01-02', 'alice', 10)];
    const c = usageChart(rows, 'energy_joules', 200, 100);
    expect(c.days).toEqual(['2025-01-01', '2025-01-02']);
    expect(c.users).toEqual(['alice', 'bob']);
    expect(c.max).toBe(40);
    expect(c.bars).toHaveLength(3);
    const [a1, a2, b2] = c.bars;
    // Day 1: alice's 10 of 40 -> a quarter of the height, in the first 100 px slot.
    expect(a1).toMatchObject({ day: '2025-01-01', user: 'alice', x: 15, width: 70, height: 25, y: 75 });
    // Day 2: alice at the bottom, bob above her, together the full height.
    expect(a2).toMatchObject({ x: 115, height: 25, y: 75, series: 0 });
    expect(b2).toMatchObject({ user: 'bob', height: 75, y: 0, series: 1 });
    expect(c.ticks.map((t) => t.value)).toEqual([0, 20, 40]);
  });

  it('gives every day of a range its column, empty ones included', async () => {
    const { daysBetween } = await import('./energy');
    expect(daysBetween('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
    const c = usageChart([row('2025-01-03', 'a', 5)], 'energy_joules', 400, 10, { from: '2025-01-01', to: '2025-01-04' });
    expect(c.days).toHaveLength(4);
    expect(c.bars).toHaveLength(1);
    expect(c.bars[0].x).toBe(2 * 100 + 15); // the third of four 100 px slots
  });

  it('charts tokens and draws nothing without use', () => {
    const c = usageChart([row('2025-01-01', 'a', 0, 8)], 'tokens', 100, 50);
    expect(c.max).toBe(8);
    expect(c.bars[0].height).toBe(50);
    expect(usageChart([], 'cost', 100, 50)).toEqual({ days: [], users: [], bars: [], max: 0, ticks: [] });
  });
});

describe('energy formatting', () => {
  it('scales grams and rounds to two significant digits', async () => {
    const { massUnit, formatFigure, formatCost } = await import('./energy');
    expect(massUnit(2.5)).toEqual({ value: 2.5, unit: 'g' });
    expect(massUnit(0.0042).unit).toBe('mg');
    expect(massUnit(0.0042).value).toBeCloseTo(4.2);
    expect(massUnit(8.9e-6).unit).toBe('µg');
    expect(formatFigure('en', 1234.5)).toBe('1,200');
    expect(formatFigure('fr', 0.012345)).toBe('0,012');
    expect(formatCost('en', 0.000123, 'EUR')).toBe('€0.00012');
    expect(formatCost('en', 1, 'credits')).toBe('1 credits');
  });
});
