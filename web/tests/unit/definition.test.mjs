// Unit tests of src/lib/definition.ts: the generic strategy-definition form model.
import test from 'node:test';
import assert from 'node:assert/strict';
import { importTs } from '../lib/load-ts.mjs';

const d = await importTs('src/lib/definition.ts');

const DEF = { weights: { tp: 0.3, vcb: 0.25 }, entry_threshold: 70, enabled: true, label: 'std', markets: ['KRW-BTC', 'KRW-ETH'], note: null, nested: { deep: { x: 1 } } };

test('flattenLeaves types every scalar by its dotted path', () => {
  const leaves = d.flattenLeaves(DEF);
  assert.deepEqual(Object.keys(leaves).sort(), ['enabled', 'entry_threshold', 'label', 'markets.0', 'markets.1', 'nested.deep.x', 'note', 'weights.tp', 'weights.vcb']);
  assert.equal(leaves['weights.tp'].kind, 'number');
  assert.equal(leaves['weights.tp'].text, '0.3');
  assert.equal(leaves.enabled.kind, 'boolean');
  assert.equal(leaves.enabled.checked, true);
  assert.equal(leaves['markets.1'].kind, 'string');
  assert.equal(leaves.note.kind, 'null');
});

test('buildDefinition writes edits back and keeps the structure', () => {
  const leaves = d.flattenLeaves(DEF);
  leaves['weights.tp'].text = '0.35';
  leaves.enabled.checked = false;
  leaves['markets.0'].text = 'KRW-XRP';
  leaves['nested.deep.x'].text = '2e1';
  const out = d.buildDefinition(DEF, leaves);
  assert.deepEqual(out, { ...DEF, weights: { tp: 0.35, vcb: 0.25 }, enabled: false, markets: ['KRW-XRP', 'KRW-ETH'], nested: { deep: { x: 20 } } });
  assert.equal(DEF.weights.tp, 0.3, 'the original is not modified');
  assert.deepEqual(d.changedKeys(DEF, leaves).sort(), ['enabled', 'markets.0', 'nested.deep.x', 'weights.tp']);
});

test('validateLeaves rejects empty and non-numeric numbers', () => {
  const leaves = d.flattenLeaves(DEF);
  leaves['weights.tp'].text = '';
  leaves.entry_threshold.text = '7O';
  leaves.label.text = '';
  const problems = d.validateLeaves(leaves);
  assert.deepEqual(Object.keys(problems).sort(), ['entry_threshold', 'weights.tp']);
  assert.match(problems['weights.tp'], /Required/);
  assert.match(problems.entry_threshold, /number/);
  for (const ok of ['1', '-2.5', '.5', '3.', '1e-3']) assert.equal(d.leafProblem({ kind: 'number', text: ok }), null, ok);
});

test('fieldToKey maps API error fields onto form keys', () => {
  const cases = [
    ['definition.weights.tp', 'weights.tp'],
    ['definition/weights/tp', 'weights.tp'],
    ['/definition/markets/0', 'markets.0'],
    ['weights[0]', 'weights.0'],
    ['entry_threshold', 'entry_threshold'],
  ];
  for (const [field, key] of cases) assert.equal(d.fieldToKey(field), key, field);
});

test('KRW leaves are money: validated as amounts, written back without separators', () => {
  const def = { min_value_krw_24h: 1000000000, order_krw: '5000', krw_note: 'about', label: 'x', top_n: 30 };
  const leaves = d.flattenLeaves(def);
  assert.equal(d.isMoneyPath(['universe', 'min_value_krw_24h']), true);
  assert.equal(d.isMoneyPath(['markets', 0]), false);
  assert.equal(d.isMoneyPath(['network']), false, '"krw" must be a word of the name');
  assert.equal(leaves.min_value_krw_24h.money, true);
  assert.equal(leaves.order_krw.money, true);
  assert.equal(leaves.krw_note.money, false, 'a non-decimal string stays free text');
  assert.equal(leaves.top_n.money, false);

  leaves.order_krw.text = '1,250,000';
  leaves.min_value_krw_24h.text = '-5';
  leaves.krw_note.text = '';
  const problems = d.validateLeaves(leaves);
  assert.deepEqual(Object.keys(problems), ['min_value_krw_24h']);
  assert.match(problems.min_value_krw_24h, /negative/);
  leaves.min_value_krw_24h.text = '2000000000';
  assert.deepEqual(d.validateLeaves(leaves), {});
  const out = d.buildDefinition(def, leaves);
  assert.equal(out.order_krw, '1250000');
  assert.equal(out.min_value_krw_24h, 2000000000);
  assert.deepEqual(d.changedKeys(def, leaves).sort(), ['krw_note', 'min_value_krw_24h', 'order_krw']);

  for (const [text, ok] of [['1000', true], ['1,000.5', true], ['', false], ['12a', false], ['-3', false]]) {
    assert.equal(d.leafProblem({ kind: 'string', text, money: true }) === null, ok, text);
  }
});

test('decimal strings ("0.03") are validated as numbers and stay strings', () => {
  const def = { risk: { daily_loss_limit: '0.03', fee_rate: '0.0005', profile: 'STANDARD' }, offset: '-1.5' };
  const leaves = d.flattenLeaves(def);
  assert.equal(leaves['risk.daily_loss_limit'].decimal, true);
  assert.equal(leaves.offset.decimal, true);
  assert.equal(leaves['risk.profile'].decimal, false);
  leaves['risk.daily_loss_limit'].text = '0.04 ';
  leaves['risk.fee_rate'].text = '5bp';
  leaves['risk.profile'].text = '';
  assert.deepEqual(Object.keys(d.validateLeaves(leaves)), ['risk.fee_rate']);
  leaves['risk.fee_rate'].text = '';
  assert.match(d.validateLeaves(leaves)['risk.fee_rate'], /Required/);
  leaves['risk.fee_rate'].text = '0.0005';
  const out = d.buildDefinition(def, leaves);
  assert.deepEqual(out.risk, { daily_loss_limit: '0.04', fee_rate: '0.0005', profile: '' });
  assert.deepEqual(d.changedKeys(def, leaves).sort(), ['risk.daily_loss_limit', 'risk.profile']);
});
