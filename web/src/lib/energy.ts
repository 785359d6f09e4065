// Energy, carbon and cost as the app shows them, and the geometry of the
// administrator's usage chart (an SVG drawn here: nothing fetched, no inline
// style, so it runs under the app's Content-Security-Policy).
import type { Message, UsageRow } from './api';

/** What the server uses to turn joules into carbon and money (GET /api/info). */
export interface Pricing {
  grid_gco2_per_kwh: number;
  pue: number;
  kwh_price: number;
  currency: string;
}

const JOULES_PER_KWH = 3.6e6;

/** Grams of CO2e for `joules`: kWh x PUE x grid intensity, as the server computes it. */
export function co2eGrams(joules: number, p: Pricing): number {
  return (joules / JOULES_PER_KWH) * p.pue * p.grid_gco2_per_kwh;
}

/** Cost of `joules`: kWh x PUE x price per kWh. */
export function cost(joules: number, p: Pricing): number {
  return (joules / JOULES_PER_KWH) * p.pue * p.kwh_price;
}

export interface Totals {
  answers: number;
  tokens: number;
  seconds: number;
  joules: number;
}

/** Sums of the answers' statistics in a conversation. */
export function conversationTotals(messages: Message[]): Totals {
  const t: Totals = { answers: 0, tokens: 0, seconds: 0, joules: 0 };
  for (const m of messages) {
    if (m.role !== 'assistant' || !m.stats) continue;
    t.answers += 1;
    t.tokens += m.stats.tokens ?? 0;
    t.seconds += (m.stats.duration_ms ?? 0) / 1000;
    t.joules += m.stats.energy_joules ?? 0;
  }
  return t;
}

/** Joules in the unit that reads best: J below 10 kJ, then Wh, then kWh. */
export function energyUnit(joules: number): { value: number; unit: 'J' | 'Wh' | 'kWh' } {
  if (joules < 1e4) return { value: joules, unit: 'J' };
  const wh = joules / 3600;
  return wh < 1e4 ? { value: wh, unit: 'Wh' } : { value: wh / 1000, unit: 'kWh' };
}

export type Metric = 'energy_joules' | 'tokens' | 'cost';

export function metricValue(row: UsageRow, metric: Metric): number {
  if (metric === 'tokens') return row.prompt_tokens + row.completion_tokens;
  return row[metric];
}

export interface Bar {
  day: string;
  user: string;
  series: number; // which color (the user's index, modulo the palette)
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
}

export interface Chart {
  days: string[];
  users: string[];
  bars: Bar[];
  max: number; // the tallest day's total
  ticks: { y: number; value: number }[];
}

export const PALETTE_SIZE = 8;

/** Every day from `from` to `to` ("YYYY-MM-DD", UTC), both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(to + 'T00:00:00Z');
  for (let t = Date.parse(from + 'T00:00:00Z'); t <= end && days.length < 1000; t += 86400000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * Stacked bars, one column per day (every day of `range` when given, days
 * without use left empty; else the rows' days), one segment per user, within
 * a width x height plot area (y grows downwards, as in SVG).
 */
export function usageChart(
  rows: UsageRow[],
  metric: Metric,
  width: number,
  height: number,
  range?: { from: string; to: string },
): Chart {
  const days = range ? daysBetween(range.from, range.to) : [...new Set(rows.map((r) => r.day))].sort();
  const users = [...new Set(rows.map((r) => r.username))].sort();
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.day, (totals.get(r.day) ?? 0) + metricValue(r, metric));
  const max = Math.max(0, ...totals.values());
  const slot = days.length > 0 ? width / days.length : width;
  const barWidth = slot * 0.7;
  const scale = max > 0 ? height / max : 0;
  const bars: Bar[] = [];
  days.forEach((day, i) => {
    let top = height;
    for (const [u, user] of users.entries()) {
      const row = rows.find((r) => r.day === day && r.username === user);
      const value = row ? metricValue(row, metric) : 0;
      if (value <= 0) continue;
      const h = value * scale;
      top -= h;
      bars.push({ day, user, series: u % PALETTE_SIZE, x: i * slot + (slot - barWidth) / 2, y: top, width: barWidth, height: h, value });
    }
  });
  const ticks = max > 0 ? [0, 0.5, 1].map((f) => ({ y: height - f * height, value: f * max })) : [];
  return { days, users, bars, max, ticks };
}

/** Grams in the unit that reads best: g, mg or µg. */
export function massUnit(grams: number): { value: number; unit: 'g' | 'mg' | 'µg' } {
  if (grams >= 1 || grams === 0) return { value: grams, unit: 'g' };
  if (grams >= 1e-3) return { value: grams * 1e3, unit: 'mg' };
  return { value: grams * 1e6, unit: 'µg' };
}

/** Two significant digits: energy and carbon figures are estimates, not ledgers. */
export function formatFigure(lang: string, n: number): string {
  return new Intl.NumberFormat(lang, { maximumSignificantDigits: 2 }).format(n);
}

/** An amount of money, however small, in the server's currency. */
export function formatCost(lang: string, amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(lang, { style: 'currency', currency, maximumSignificantDigits: 2 }).format(amount);
  } catch {
    return `${formatFigure(lang, amount)} ${currency}`; // not an ISO 4217 code
  }
}

/** The server's pricing from /api/info, when it reports energy. */
export function pricingOf(info: { energy: boolean; grid_gco2_per_kwh?: number; pue?: number; kwh_price?: number; currency?: string } | null): Pricing | null {
  if (!info?.energy || info.grid_gco2_per_kwh === undefined || info.pue === undefined || info.kwh_price === undefined) return null;
  return { grid_gco2_per_kwh: info.grid_gco2_per_kwh, pue: info.pue, kwh_price: info.kwh_price, currency: info.currency ?? 'EUR' };
}
