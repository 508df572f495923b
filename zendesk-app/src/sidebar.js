// The ticket sidebar: the supplier, the invoices the ticket quotes, then the supplier's recent ones; search by
// invoice number; attach an invoice to the ticket; freshness and refresh; empty, loading and error states.
import { h, replaceContent } from './dom.js';
import { button, callout, details, errorCallout, loading, tag, writesTable } from './components.js';
import { formatAge, formatClock, formatDate, formatInstant, formatMoney, paymentStatusLabel } from './format.js';

export function startSidebar({ root, api, ticket, locale, now = () => Date.now() }) {
  const state = {
    loading: true,
    error: null,
    context: null,
    refreshing: false,
    expanded: new Set(),
    attach: new Map(), // invoice number -> {busy, result, error}
    search: { query: '', busy: false, error: null, result: null, hint: null },
    supplierView: null, // {busy, error, result} for a supplier opened from the search
  };
  const ctx = { where: 'agent', baseUrl: api.baseUrl, tenant: api.tenant };

  async function load({ refresh = false } = {}) {
    if (refresh) state.refreshing = true;
    else state.loading = true;
    render();
    try {
      state.context = await api.ticketContext(ticket, { refresh });
      state.error = null;
    } catch (err) {
      state.error = err;
    } finally {
      state.loading = false;
      state.refreshing = false;
      render();
    }
  }

  async function search(event) {
    event.preventDefault();
    const q = state.search.query.trim();
    if (q.length < 2) {
      state.search = { ...state.search, hint: 'Type at least 2 characters of the invoice number.', result: null, error: null };
      render();
      return;
    }
    state.search = { ...state.search, busy: true, hint: null, error: null };
    render();
    try {
      state.search.result = await api.search(q);
    } catch (err) {
      state.search.error = err;
      state.search.result = null;
    } finally {
      state.search.busy = false;
      render();
    }
  }

  async function openSupplier(id) {
    state.supplierView = { busy: true, id };
    render();
    try {
      state.supplierView = { id, result: await api.supplier(id) };
    } catch (err) {
      state.supplierView = { id, error: err };
    }
    render();
  }

  async function attach(number) {
    state.attach.set(number, { busy: true });
    render();
    try {
      state.attach.set(number, { result: await api.attach(ticket.id, number) });
    } catch (err) {
      state.attach.set(number, { error: err });
    }
    render();
    root.querySelector(`[data-key="attach-result-${CSS.escape(number)}"]`)?.focus();
  }

  function toggle(key) {
    if (state.expanded.has(key)) state.expanded.delete(key);
    else state.expanded.add(key);
    render();
  }

  // --- rendering ------------------------------------------------------------------------------------------------
  function render() {
    replaceContent(root, h('div', { class: 'mlc-sidebar' }, body(), searchSection(), footer()));
  }

  function body() {
    if (state.loading && !state.context) return loading('Loading Workday data for this ticket…');
    if (state.error && !state.context) return errorCallout(state.error, ctx, { onRetry: () => load() });
    const c = state.context;
    const parts = [];
    if (state.error) parts.push(errorCallout(state.error, ctx, { onRetry: () => load({ refresh: true }) }));
    if (c.stale) parts.push(staleNotice(c));
    parts.push(c.supplier ? supplierCard(c.supplier, c.supplier_match) : supplierMissing());
    if (c.unresolved_references?.length) {
      parts.push(
        callout(
          'warning',
          `Not found in Workday: ${c.unresolved_references.join(', ')}`,
          'The ticket quotes these numbers, but Workday has no such invoice. Check the number with the requester, or search below.',
        ),
      );
    }
    parts.push(invoiceSection('Invoices quoted in this ticket', c.referenced_invoices, 'ref'));
    parts.push(invoiceSection(c.supplier ? `Recent invoices of ${c.supplier.name}` : 'Recent invoices', c.recent_invoices, 'recent'));
    if (!c.referenced_invoices?.length && !c.recent_invoices?.length) {
      parts.push(
        h('p', { class: 'mlc-muted', dataset: { testid: 'no-invoices' } }, c.supplier ? 'No open or recent invoices for this supplier in Workday.' : 'No invoices to show.'),
      );
    }
    return parts;
  }

  function staleNotice(c) {
    const oldest = c.as_of;
    return callout(
      'warning',
      `Workday is slow: showing cached data from ${formatClock(oldest, locale)}`,
      c.stale_reason ? `Why: ${c.stale_reason}.` : null,
      'Amounts and payments may have changed since. Refresh to try Workday again.',
    );
  }

  function supplierMissing() {
    return h(
      'section',
      { class: 'mlc-card', 'aria-labelledby': 'mlc-supplier-missing', dataset: { testid: 'supplier-missing' } },
      callout(
        'info',
        'Supplier not found in Workday',
        "This ticket's organization has no Workday supplier ID, the requester's e-mail domain matches no supplier, and the ticket quotes no known invoice.",
        'Search by invoice number below, or ask an admin to link the organization to its supplier.',
      ),
    );
  }

  function supplierCard(s, match) {
    const matchText = { organization: 'matched by the ticket organization', email_domain: "matched by the requester's e-mail domain", invoice: 'matched by a quoted invoice' }[match];
    const contact = s.contact ?? {};
    return h(
      'section',
      { class: ['mlc-card', 'mlc-supplier'], 'aria-labelledby': 'mlc-supplier-name', dataset: { testid: 'supplier-card' } },
      h(
        'header',
        { class: 'mlc-card__head' },
        h('h2', { id: 'mlc-supplier-name', class: 'mlc-title' }, s.name),
        tag(s.status ? s.status[0].toUpperCase() + s.status.slice(1) : 'Unknown', s.status === 'active' ? 'green' : 'grey'),
      ),
      h('p', { class: 'mlc-muted' }, `Supplier ${s.supplier_id}`, matchText ? ` · ${matchText}` : ''),
      s.stale ? h('p', { class: 'mlc-stale' }, `Cached from ${formatClock(s.as_of, locale)}`) : null,
      details([
        ['E-mail', contact.email ? h('a', { href: `mailto:${contact.email}` }, contact.email) : null],
        ['Phone', contact.phone],
        ['Address', contact.address ? h('span', { class: 'mlc-pre' }, contact.address) : null],
        ['Terms', s.payment_terms],
      ]),
      totals(s.totals),
    );
  }

  function totals(list) {
    if (!list?.length) return h('p', { class: 'mlc-muted' }, 'Nothing open.');
    return h(
      'div',
      { class: 'mlc-totals', dataset: { testid: 'supplier-totals' } },
      list.map((t) =>
        h(
          'div',
          { class: 'mlc-total' },
          h('div', { class: 'mlc-total__item' }, h('span', { class: 'mlc-label' }, 'Open'), h('strong', {}, formatMoney(t.open_amount, t.currency, locale)), h('span', { class: 'mlc-muted' }, ` ${t.open_invoices} invoice${t.open_invoices === 1 ? '' : 's'}`)),
          h(
            'div',
            { class: ['mlc-total__item', Number(t.overdue_invoices) > 0 && 'mlc-overdue'] },
            h('span', { class: 'mlc-label' }, 'Overdue'),
            h('strong', {}, formatMoney(t.overdue_amount, t.currency, locale)),
            h('span', { class: 'mlc-muted' }, ` ${t.overdue_invoices} invoice${t.overdue_invoices === 1 ? '' : 's'}`),
          ),
        ),
      ),
    );
  }

  function invoiceSection(title, invoices, group) {
    if (!invoices?.length) return null;
    const id = `mlc-section-${group}`;
    return h('section', { class: 'mlc-section', 'aria-labelledby': id }, h('h3', { id, class: 'mlc-subtitle' }, title), h('ul', { class: 'mlc-invoices' }, invoices.map((inv) => h('li', {}, invoiceCard(inv, group)))));
  }

  function invoiceCard(inv, group) {
    const number = inv.invoice_number ?? inv.workday_invoice_number ?? inv.reference_id;
    const key = `${group}:${inv.reference_id}`;
    const open = state.expanded.has(key);
    const status = paymentStatusLabel(inv);
    const panelId = `mlc-inv-${group}-${inv.reference_id}`.replace(/[^A-Za-z0-9_-]/g, '_');
    return h(
      'article',
      { class: ['mlc-invoice', inv.payment_status === 'overdue' && 'mlc-invoice--overdue'], dataset: { testid: 'invoice', invoice: number } },
      h(
        'button',
        { type: 'button', class: 'mlc-invoice__toggle', 'aria-expanded': open ? 'true' : 'false', 'aria-controls': panelId, onClick: () => toggle(key), dataset: { key: `toggle-${key}` } },
        h('span', { class: 'mlc-invoice__line' }, h('strong', { class: 'mlc-invoice__number' }, number), tag(status.label, status.tone, { dataset: { testid: 'payment-status' } })),
        h('span', { class: 'mlc-invoice__line' }, h('span', {}, formatMoney(inv.amount, inv.currency, locale)), h('span', { class: 'mlc-muted' }, `due ${formatDate(inv.due_date, locale)}`)),
        inv.stale ? h('span', { class: 'mlc-stale' }, `cached from ${formatClock(inv.as_of, locale)}`) : null,
      ),
      open ? invoiceDetails(inv, number, panelId) : null,
    );
  }

  function invoiceDetails(inv, number, panelId) {
    const po = inv.purchase_order;
    const a = state.attach.get(number);
    return h(
      'div',
      { id: panelId, class: 'mlc-invoice__details' },
      details([
        ['Supplier', inv.supplier ? `${inv.supplier.name} (${inv.supplier.supplier_id})` : null],
        ['Workday number', inv.workday_invoice_number],
        ['Invoice date', formatDate(inv.invoice_date, locale)],
        ['Due date', formatDate(inv.due_date, locale)],
        ['Amount', formatMoney(inv.amount, inv.currency, locale)],
        ['Credits', inv.credits && Number(inv.credits) !== 0 ? formatMoney(inv.credits, inv.currency, locale) : null],
        ['Paid', formatMoney(inv.amount_paid, inv.currency, locale)],
        ['Amount due', h('strong', {}, formatMoney(inv.amount_due, inv.currency, locale))],
        ['Payment status', paymentStatusLabel(inv).label],
        ['Document', [inv.document_status, inv.on_hold ? 'on hold' : null].filter(Boolean).join(', ')],
        ['PO', po ? `${po.number} · ${po.status ?? ''}${po.total ? ` · ${formatMoney(po.total, po.currency, locale)}` : ''}` : inv.po_number],
      ]),
      payments(inv),
      h(
        'div',
        { class: 'mlc-actions' },
        button(`Attach ${number} to ticket`, { kind: 'primary', onClick: () => attach(number), busy: a?.busy, key: `attach-${number}` }),
      ),
      a?.busy ? loading('Writing the fields…') : null,
      a?.error ? errorCallout(a.error, ctx) : null,
      a?.result ? attachResult(a.result, number) : null,
    );
  }

  function payments(inv) {
    const list = inv.payments ?? [];
    const adjustments = inv.adjustments ?? [];
    return [
      h('h4', { class: 'mlc-subtitle' }, 'Payments'),
      list.length
        ? h(
            'ul',
            { class: 'mlc-payments' },
            list.map((p) =>
              h('li', {}, h('span', {}, formatDate(p.date, locale)), h('strong', {}, formatMoney(p.amount, p.currency ?? inv.currency, locale)), h('span', { class: 'mlc-muted' }, [p.method, p.status, p.reference].filter(Boolean).join(' · '))),
            ),
          )
        : h('p', { class: 'mlc-muted' }, 'No payments yet.'),
      adjustments.length
        ? [
            h('h4', { class: 'mlc-subtitle' }, 'Credits and adjustments'),
            h(
              'ul',
              { class: 'mlc-payments' },
              adjustments.map((c) => h('li', {}, h('span', {}, formatDate(c.date, locale)), h('strong', {}, formatMoney(c.amount, inv.currency, locale)), h('span', { class: 'mlc-muted' }, [c.number, c.memo].filter(Boolean).join(' · ')))),
            ),
          ]
        : null,
    ];
  }

  function attachResult(r, number) {
    const sourceText = { declarative: 'the mapping rules', plugin: 'the mapping plugin', nothing: 'nothing (no mapping applies)' }[r.source] ?? r.source;
    const title = r.unchanged ? `The ticket already had these values for ${number}` : r.written?.length ? `Attached ${number}: ${r.written.length} field${r.written.length === 1 ? '' : 's'} written` : `Nothing written for ${number}`;
    return h(
      'div',
      { class: 'mlc-attach-result', tabindex: '-1', role: 'status', dataset: { key: `attach-result-${number}`, testid: 'attach-result' } },
      callout(r.unchanged || !r.written?.length ? 'info' : 'success', title, `Source: ${sourceText}.`, r.written?.length ? 'Reload the ticket to see the fields.' : null),
      writesTable(r.written, 'What was written'),
    );
  }

  function searchSection() {
    const s = state.search;
    const hintId = 'mlc-search-hint';
    return h(
      'section',
      { class: ['mlc-section', 'mlc-search'], 'aria-labelledby': 'mlc-search-title' },
      h('h3', { id: 'mlc-search-title', class: 'mlc-subtitle' }, 'Find an invoice'),
      h(
        'form',
        { class: 'mlc-search__form', onSubmit: search, role: 'search' },
        h('label', { class: 'c-field__label mlc-visually-hidden', for: 'mlc-search-input' }, 'Invoice number or supplier name'),
        h('input', {
          id: 'mlc-search-input',
          class: ['c-field__input', 'mlc-search__input'],
          type: 'search',
          placeholder: 'Invoice number, e.g. INV-2026',
          value: s.query,
          autocomplete: 'off',
          'aria-describedby': s.hint ? hintId : undefined,
          dataset: { key: 'search-input' },
          onInput: (e) => {
            state.search.query = e.target.value;
          },
        }),
        button('Search', { type: 'submit', busy: s.busy, key: 'search-submit' }),
      ),
      s.hint ? h('p', { id: hintId, class: 'c-field__message mlc-hint', role: 'alert' }, s.hint) : null,
      s.busy ? loading('Searching…') : null,
      s.error ? errorCallout(s.error, ctx) : null,
      s.result ? searchResults(s.result) : null,
      state.supplierView ? supplierPanel() : null,
    );
  }

  function searchResults(r) {
    const none = !r.invoices?.length && !r.suppliers?.length;
    return h(
      'div',
      { class: 'mlc-search__results', dataset: { testid: 'search-results' } },
      none ? h('p', { class: 'mlc-muted', role: 'status' }, `No invoice or supplier matches “${r.query}”.`) : null,
      r.invoices?.length ? h('ul', { class: 'mlc-invoices', 'aria-label': 'Matching invoices' }, r.invoices.map((inv) => h('li', {}, invoiceCard(inv, 'search')))) : null,
      r.suppliers?.length
        ? h(
            'ul',
            { class: 'mlc-suppliers', 'aria-label': 'Matching suppliers' },
            r.suppliers.map((s) =>
              h('li', {}, h('span', {}, s.name, h('span', { class: 'mlc-muted' }, ` ${s.supplier_id}`)), button('Show', { onClick: () => openSupplier(s.supplier_id), key: `supplier-${s.supplier_id}`, ariaLabel: `Show supplier ${s.name}` })),
            ),
          )
        : null,
    );
  }

  function supplierPanel() {
    const v = state.supplierView;
    if (v.busy) return loading('Loading the supplier…');
    if (v.error) return errorCallout(v.error, ctx, { onRetry: () => openSupplier(v.id) });
    const r = v.result;
    return h('div', { class: 'mlc-supplier-panel' }, r.stale ? staleNotice(r) : null, supplierCard(r.supplier, null), invoiceSection(`Recent invoices of ${r.supplier.name}`, r.recent_invoices, `supplier-${r.supplier.supplier_id}`));
  }

  function footer() {
    const c = state.context;
    return h(
      'footer',
      { class: 'mlc-footer' },
      h('span', { class: 'mlc-muted', dataset: { testid: 'freshness' }, title: c?.as_of ? formatInstant(c.as_of, locale) : '' }, c?.as_of ? `As of ${formatAge(c.as_of, now())}` : ''),
      button(state.refreshing ? 'Refreshing…' : 'Refresh', { onClick: () => load({ refresh: true }), busy: state.refreshing || state.loading, key: 'refresh', ariaLabel: 'Refresh from Workday' }),
    );
  }

  // The age ("2 min ago") moves on by itself.
  const ticker = setInterval(() => {
    const el = root.querySelector('[data-testid="freshness"]');
    if (el && state.context?.as_of) el.textContent = `As of ${formatAge(state.context.as_of, now())}`;
  }, 30_000);

  load();
  return { reload: load, stop: () => clearInterval(ticker) };
}
