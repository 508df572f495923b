// Formatting for people: money from decimal strings (never through a float), calendar dates without time-zone
// shifts, clock times and ages. Pure functions; unit-tested in node.

/**
 * "18250.00", "USD" -> "USD 18,250.00" (in the agent's locale). The amount stays a decimal string: Intl's
 * NumberFormat formats a string exactly (no conversion to a binary float), so large and long amounts are exact.
 */
export function formatMoney(amount, currency, locale = 'en-US') {
  if (amount === null || amount === undefined || amount === '') return '—';
  const text = String(amount);
  if (!/^-?\d+(\.\d+)?$/.test(text)) return currency ? `${currency} ${text}` : text;
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      currencyDisplay: 'code',
      minimumFractionDigits: fractionDigits(text, currency, locale),
    }).format(text);
  } catch {
    return `${currency ?? ''} ${text}`.trim();
  }
}

// At least the currency's usual digits, more when the amount has them (never round a Workday amount away).
function fractionDigits(text, currency, locale) {
  const given = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  let usual = 2;
  try {
    usual = new Intl.NumberFormat(locale, { style: 'currency', currency }).resolvedOptions().minimumFractionDigits;
  } catch {
    // unknown currency: keep 2
  }
  return Math.min(20, Math.max(given, usual));
}

/** "2026-10-31" -> "Oct 31, 2026"; the date is a calendar date, shown the same in every time zone. */
export function formatDate(date, locale = 'en-US') {
  if (!date) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return String(date);
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(utc);
}

/** An RFC 3339 instant -> the agent's local clock time, "10:42". */
export function formatClock(instant, locale = 'en-US', timeZone = undefined) {
  const t = Date.parse(instant);
  if (Number.isNaN(t)) return '—';
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone }).format(t);
}

/** An RFC 3339 instant -> "Oct 31, 2026, 10:42". */
export function formatInstant(instant, locale = 'en-US', timeZone = undefined) {
  const t = Date.parse(instant);
  if (Number.isNaN(t)) return '—';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(t);
}

/** How long ago `instant` was, seen at `now` (ms): "just now", "2 min ago", "3 h ago", "2 days ago". */
export function formatAge(instant, now = Date.now()) {
  const t = Date.parse(instant);
  if (Number.isNaN(t)) return 'at an unknown time';
  const seconds = Math.max(0, Math.round((now - t) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/** Milliseconds between two instants as "1.2 s" / "3 min 4 s" / "2 h 5 min". */
export function formatDuration(startInstant, endInstant) {
  const a = Date.parse(startInstant);
  const b = Date.parse(endInstant);
  if (Number.isNaN(a) || Number.isNaN(b)) return '—';
  const ms = Math.max(0, b - a);
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export const PAYMENT_STATUS = {
  paid: { label: 'Paid', tone: 'green' },
  partially_paid: { label: 'Partly paid', tone: 'yellow' },
  unpaid: { label: 'Unpaid', tone: 'grey' },
  overdue: { label: 'Overdue', tone: 'red' },
};

/** The label of an invoice's payment status, with the days overdue: "Overdue · 33 days". */
export function paymentStatusLabel(invoice) {
  const s = PAYMENT_STATUS[invoice.payment_status] ?? { label: invoice.payment_status ?? 'Unknown', tone: 'grey' };
  if (invoice.payment_status === 'overdue' && Number.isInteger(invoice.days_overdue)) {
    return { ...s, label: `${s.label} · ${invoice.days_overdue} day${invoice.days_overdue === 1 ? '' : 's'}` };
  }
  return s;
}

/** A field write as two strings for a table: target and value. */
export function describeWrite(write) {
  const t = write?.target ?? {};
  const target =
    t.kind === 'ticket_field'
      ? `Ticket field ${t.id}`
      : t.kind === 'organization_field'
        ? `Organization field ${t.key}`
        : t.kind === 'tag'
          ? `Tag ${t.name}`
          : JSON.stringify(t);
  const v = write?.value ?? {};
  let value;
  switch (v.type) {
    case 'clear':
      value = '(cleared)';
      break;
    case 'checkbox':
      value = v.value ? 'checked' : 'unchecked';
      break;
    case undefined:
      value = JSON.stringify(v);
      break;
    default:
      value = String(v.value);
  }
  return { target, value, type: v.type ?? '' };
}
