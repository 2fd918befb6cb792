// Unit tests of src/lib/format.ts: decimal-string KRW formatting without floats, percentages,
// durations, amount validation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { importTs } from '../lib/load-ts.mjs';

const f = await importTs('src/lib/format.ts');

function check(fn, cases) {
  for (const [input, expected] of cases) assert.equal(fn(...(Array.isArray(input) ? input : [input])), expected, `input ${JSON.stringify(input)}`);
}

test('formatDecimal groups thousands and rounds on the digits', () => {
  check(f.formatDecimal, [
    ['0', '0'],
    ['1000000', '1,000,000'],
    ['1234567.891', '1,234,567.89'],
    ['1234.5', '1,234.5'],
    ['-1234.565', '-1,234.57'],
    ['999.995', '1,000'],
    ['-0.001', '0'],
    ['0000123', '123'],
    ['12345678901234567890.123456789', '12,345,678,901,234,567,890.12'],
    [['3.697095875', 8], '3.69709588'],
    [['1999.5', 0], '2,000'],
    ['+5', '5'],
    ['abc', 'abc'],
    [null, '—'],
    [1500000, '1,500,000'],
    [0.125, '0.13'],
  ]);
});

test('formatKrw / formatSignedKrw put the won sign after the minus', () => {
  check(f.formatKrw, [
    ['1000000', '₩1,000,000'],
    ['-1234.567', '-₩1,234.57'],
    [undefined, '—'],
  ]);
  check(f.formatSignedKrw, [
    ['1234.5', '+₩1,234.5'],
    ['-2', '-₩2'],
    ['0', '₩0'],
  ]);
});

test('decimalSign reads the sign of decimal strings', () => {
  check(f.decimalSign, [['12.5', 1], ['-0.01', -1], ['0.000', 0], ['-0', 0], ['x', 0], [-3, -1]]);
});

test('formatPct shows a sign and two decimals', () => {
  check(f.formatPct, [[0.1234, '+0.12%'], [-1.2, '-1.20%'], [0.001, '0.00%'], [-0.004, '0.00%'], [Number.NaN, '—'], [null, '—']]);
});

test('formatDuration picks the two largest units', () => {
  check(f.formatDuration, [[0, '0s'], [42, '42s'], [61, '1m 1s'], [3725, '1h 2m'], [86399, '23h 59m'], [90061, '1d 1h'], [-5, '0s']]);
});

test('secondsUntil', () => {
  assert.equal(f.secondsUntil('2026-01-01T00:01:00Z', Date.parse('2026-01-01T00:00:00Z')), 60);
  assert.equal(f.secondsUntil(null, 0), null);
  assert.equal(f.secondsUntil('not a time', 0), null);
});

test('amountProblem validates typed KRW amounts', () => {
  check(f.amountProblem, [
    ['1,000,000', null],
    ['₩ 500 000', null],
    ['1000.5', null],
    ['', 'Enter an amount in KRW.'],
    ['0', 'Must be greater than zero.'],
    ['0.00', 'Must be greater than zero.'],
    ['-5', 'Use digits only, for example 1000000.'],
    ['1e6', 'Use digits only, for example 1000000.'],
  ]);
  assert.equal(f.normalizeAmount('1,000,000 KRW'), '1000000');
  check((v) => f.amountProblem(v, true), [
    ['1,000,000', null],
    ['1000.00', null],
    ['1000.5', 'Whole won only, without decimals.'],
    ['0.5', 'Whole won only, without decimals.'],
  ]);
});

test('protectionState / protectionText read protection_until (null: not started yet)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.deepEqual(f.protectionState(null, now), { kind: 'pending' });
  assert.deepEqual(f.protectionState(undefined, now), { kind: 'pending' });
  assert.deepEqual(f.protectionState('2026-01-01T02:30:00Z', now), { kind: 'running', secsLeft: 9000 });
  assert.deepEqual(f.protectionState('2025-12-31T23:59:59Z', now), { kind: 'over' });
  assert.deepEqual(f.protectionState('2026-01-01T00:00:00Z', now), { kind: 'over' });
  assert.equal(f.protectionText({ kind: 'running', secsLeft: 9000 }), 'PAPER PROTECTION · 2h 30m left');
  assert.equal(f.protectionText({ kind: 'pending' }), 'PAPER PROTECTION · 24h, starts at the first PAPER run');
  assert.equal(f.protectionText({ kind: 'over' }), null);
});
