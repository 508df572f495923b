// Formatting: money stays exact (no float), dates do not shift with time zones, ages read as people say them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeWrite, formatAge, formatDate, formatMoney, paymentStatusLabel } from '../src/format.js';

const nbsp = (s) => s.replace(/\u00a0/g, ' ');

test('money is formatted from the decimal string, exactly', () => {
  assert.equal(nbsp(formatMoney('18250.00', 'USD')), 'USD 18,250.00');
  assert.equal(nbsp(formatMoney('-250.00', 'USD')), '-USD 250.00');
  // 2^53 + 1 and a long fraction: a float would lose both.
  assert.equal(nbsp(formatMoney('9007199254740993.01', 'EUR')), 'EUR 9,007,199,254,740,993.01');
  assert.equal(nbsp(formatMoney('4450.005', 'EUR')), 'EUR 4,450.005', 'never round a Workday amount away');
  assert.equal(nbsp(formatMoney('1000', 'JPY')), 'JPY 1,000');
  assert.equal(nbsp(formatMoney('18250.00', 'EUR', 'de-DE')), '18.250,00 EUR');
  assert.equal(formatMoney(null, 'USD'), '—');
  assert.equal(formatMoney('abc', 'USD'), 'USD abc');
});

test('calendar dates are the same in every time zone', () => {
  assert.equal(formatDate('2026-10-31'), 'Oct 31, 2026');
  assert.equal(formatDate('2026-01-01', 'de-DE'), '01.01.2026');
  assert.equal(formatDate(null), '—');
});

test('ages', () => {
  const now = Date.parse('2026-12-03T10:44:00Z');
  assert.equal(formatAge('2026-12-03T10:43:40Z', now), 'just now');
  assert.equal(formatAge('2026-12-03T10:42:00Z', now), '2 min ago');
  assert.equal(formatAge('2026-12-03T07:44:00Z', now), '3 h ago');
  assert.equal(formatAge('2026-12-01T10:44:00Z', now), '2 days ago');
});

test('payment status labels carry the days overdue', () => {
  assert.deepEqual(paymentStatusLabel({ payment_status: 'overdue', days_overdue: 33 }), { label: 'Overdue · 33 days', tone: 'red' });
  assert.deepEqual(paymentStatusLabel({ payment_status: 'paid', days_overdue: null }), { label: 'Paid', tone: 'green' });
});

test('field writes read as target and value', () => {
  assert.deepEqual(describeWrite({ target: { kind: 'ticket_field', id: 360001 }, value: { type: 'decimal', value: '18250.00' } }), { target: 'Ticket field 360001', value: '18250.00', type: 'decimal' });
  assert.equal(describeWrite({ target: { kind: 'tag', name: 'wd_paid' }, value: { type: 'checkbox', value: true } }).value, 'checked');
  assert.equal(describeWrite({ target: { kind: 'organization_field', key: 'terms' }, value: { type: 'clear' } }).target, 'Organization field terms');
});
