// Shared pieces of both views, styled with Zendesk Garden's CSS classes (c-btn, c-tag, c-callout, ...).
import { h } from './dom.js';
import { describeWrite } from './format.js';
import { explainError } from './messages.js';

export function button(label, { onClick, kind = 'basic', size = 'sm', key, disabled, busy, describedBy, ariaLabel, type = 'button' } = {}) {
  return h(
    'button',
    {
      type,
      class: ['c-btn', size === 'sm' && 'c-btn--sm', kind === 'primary' && 'c-btn--primary', kind === 'basic' && 'c-btn--basic', kind === 'danger' && 'c-btn--danger'],
      onClick,
      disabled: disabled || busy,
      'aria-busy': busy ? 'true' : undefined,
      'aria-describedby': describedBy,
      'aria-label': ariaLabel,
      dataset: key ? { key } : undefined,
    },
    label,
  );
}

export function tag(label, tone = 'grey', extra = {}) {
  return h('span', { class: ['c-tag', 'c-tag--pill', `c-tag--${tone}`, 'mlc-tag'], ...extra }, label);
}

/** A Garden callout: tone is info, warning, error or success. */
export function callout(tone, title, ...paragraphs) {
  return h(
    'div',
    { class: ['c-callout', `c-callout--${tone}`, 'mlc-callout'], role: tone === 'error' ? 'alert' : 'status' },
    h('strong', { class: 'c-callout__title' }, title),
    paragraphs.filter(Boolean).map((p) => h('p', { class: 'c-callout__paragraph' }, p)),
  );
}

/** An error callout that says what happened and what to do, with a retry button when one helps. */
export function errorCallout(err, context, { onRetry, retryKey } = {}) {
  const e = explainError(err, context);
  const box = callout('error', e.title, e.detail, e.action, err?.requestId ? `Reference: ${err.requestId}` : null);
  if (onRetry) box.append(h('p', { class: 'mlc-actions' }, button('Try again', { onClick: onRetry, key: retryKey ?? 'retry' })));
  return box;
}

/** The field writes of a mapping, attach or dry-run as a table. */
export function writesTable(writes, caption) {
  if (!writes?.length) return h('p', { class: 'mlc-muted' }, 'No field writes.');
  return h(
    'table',
    { class: ['c-table', 'c-table--sm', 'mlc-writes'] },
    caption ? h('caption', { class: 'c-table__caption' }, caption) : null,
    h('thead', {}, h('tr', { class: ['c-table__row', 'c-table__row--header'] }, h('th', { class: 'c-table__row__cell', scope: 'col' }, 'Target'), h('th', { class: 'c-table__row__cell', scope: 'col' }, 'Value'))),
    h(
      'tbody',
      {},
      writes.map((w) => {
        const d = describeWrite(w);
        return h('tr', { class: 'c-table__row' }, h('td', { class: 'c-table__row__cell' }, d.target), h('td', { class: 'c-table__row__cell' }, d.value, d.type ? h('span', { class: 'mlc-muted' }, ` (${d.type})`) : null));
      }),
    ),
  );
}

/** A term/description list from [label, value] pairs; pairs with an empty value are left out. */
export function details(pairs, cls = 'mlc-details') {
  return h(
    'dl',
    { class: cls },
    pairs
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

export function loading(text) {
  return h('div', { class: 'mlc-loading', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'mlc-spinner', 'aria-hidden': 'true' }), text);
}
