// The nav-bar panel for admins: sync health (runs, counts, errors, a chart of organizations created/updated),
// the dead-letter queue with requeue, the field mapping (view, preview on a real invoice), and the mapping
// plugins (upload, dry-run, activate, rollback). Everything goes through the admin API with the admin key.
import { h, replaceContent } from './dom.js';
import { button, callout, details, errorCallout, loading, tag, writesTable } from './components.js';
import { syncChart } from './chart.js';
import { formatDuration, formatInstant } from './format.js';

const TABS = [
  { id: 'sync', label: 'Sync' },
  { id: 'dead-letters', label: 'Dead letters' },
  { id: 'mapping', label: 'Mapping' },
  { id: 'plugins', label: 'Plugins' },
];

export function startNavbar({ root, api, locale }) {
  const ctx = { where: 'admin', baseUrl: api.baseUrl, tenant: api.tenant };
  const state = {
    tab: 'sync',
    status: { busy: true },
    runs: { busy: true },
    syncStart: {},
    deadLetters: { busy: false },
    requeue: new Map(),
    mapping: { busy: false },
    preview: { subject: 'invoice', value: '' },
    plugins: { busy: false },
    pluginAction: new Map(), // plugin id -> {busy, result, error, kind}
    upload: { name: '' },
    dryRunInput: new Map(), // plugin id -> {mode, value}
    rollback: {},
  };
  const loaded = new Set();

  // Loads `key` with `fn` into state[key] as {busy, data, error}.
  async function fetchInto(key, fn) {
    state[key] = { ...state[key], busy: true, error: null };
    render();
    try {
      state[key] = { busy: false, data: await fn(), error: null };
    } catch (err) {
      state[key] = { busy: false, data: state[key].data, error: err };
    }
    render();
  }

  function loadTab(tab) {
    loaded.add(tab);
    if (tab === 'sync') return Promise.all([fetchInto('status', api.status), fetchInto('runs', () => api.syncRuns(50))]);
    if (tab === 'dead-letters') return fetchInto('deadLetters', api.deadLetters);
    if (tab === 'mapping') return fetchInto('mapping', api.mapping);
    if (tab === 'plugins') return fetchInto('plugins', api.plugins);
    return undefined;
  }

  function select(tab, focus = false) {
    state.tab = tab;
    if (!loaded.has(tab)) loadTab(tab);
    render();
    if (focus) root.querySelector(`[data-key="tab-${tab}"]`)?.focus();
  }

  // --- actions ----------------------------------------------------------------------------------------------------
  async function runSync(full) {
    state.syncStart = { busy: true };
    render();
    try {
      const r = await api.runSync(full);
      state.syncStart = { result: r };
      await loadTab('sync');
    } catch (err) {
      state.syncStart = { error: err };
    }
    render();
  }

  async function requeue(id) {
    state.requeue.set(id, { busy: true });
    render();
    try {
      state.requeue.set(id, { result: await api.requeue(id) });
      await fetchInto('deadLetters', api.deadLetters);
    } catch (err) {
      state.requeue.set(id, { error: err });
    }
    render();
  }

  async function preview(event) {
    event.preventDefault();
    const value = state.preview.value.trim();
    if (!value) {
      state.preview = { ...state.preview, hint: `Type ${state.preview.subject === 'invoice' ? 'an invoice number' : 'a supplier ID'}.` };
      render();
      return;
    }
    state.preview = { ...state.preview, busy: true, hint: null, error: null, result: null };
    render();
    try {
      state.preview.result = await api.previewMapping({ [state.preview.subject]: value });
    } catch (err) {
      state.preview.error = err;
    }
    state.preview.busy = false;
    render();
    root.querySelector('[data-key="preview-result"]')?.focus();
  }

  async function pluginAction(id, kind, fn) {
    state.pluginAction.set(id, { busy: true, kind });
    render();
    try {
      const result = await fn();
      state.pluginAction.set(id, { kind, result });
      await fetchInto('plugins', api.plugins);
    } catch (err) {
      state.pluginAction.set(id, { kind, error: err });
    }
    render();
    root.querySelector(`[data-key="plugin-result-${id}"]`)?.focus();
  }

  function dryRunSample(id) {
    const input = state.dryRunInput.get(id) ?? { mode: 'invoice', value: '' };
    if (input.mode === 'invoice') return { invoice: input.value.trim() };
    return JSON.parse(input.value);
  }

  async function upload(event) {
    event.preventDefault();
    const file = root.querySelector('#mlc-plugin-file')?.files?.[0];
    if (!file) {
      state.upload = { ...state.upload, hint: 'Choose a .wasm file first.' };
      render();
      return;
    }
    state.upload = { ...state.upload, busy: true, hint: null, error: null, result: null };
    render();
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const body = { name: state.upload.name.trim() || file.name.replace(/\.wasm$/, ''), component_base64: base64(bytes) };
      state.upload.result = await api.uploadPlugin(body);
      await fetchInto('plugins', api.plugins);
    } catch (err) {
      state.upload.error = err;
    }
    state.upload.busy = false;
    render();
  }

  async function rollback() {
    state.rollback = { busy: true };
    render();
    try {
      state.rollback = { result: await api.rollbackPlugin() };
      await fetchInto('plugins', api.plugins);
    } catch (err) {
      state.rollback = { error: err };
    }
    render();
  }

  // --- rendering --------------------------------------------------------------------------------------------------
  function render() {
    replaceContent(
      root,
      h(
        'div',
        { class: 'mlc-navbar' },
        h('header', { class: 'mlc-navbar__head' }, h('h1', { class: 'mlc-title' }, 'ml-connector'), h('span', { class: 'mlc-muted' }, ` tenant ${api.tenant} · ${api.baseUrl}`)),
        tabList(),
        TABS.map((t) => h('div', { id: `mlc-panel-${t.id}`, role: 'tabpanel', 'aria-labelledby': `mlc-tab-${t.id}`, class: 'c-tab__panel', hidden: state.tab !== t.id }, state.tab === t.id ? panel(t.id) : null)),
      ),
    );
  }

  function tabList() {
    const onKey = (e) => {
      const i = TABS.findIndex((t) => t.id === state.tab);
      let next;
      if (e.key === 'ArrowRight') next = TABS[(i + 1) % TABS.length];
      else if (e.key === 'ArrowLeft') next = TABS[(i + TABS.length - 1) % TABS.length];
      else if (e.key === 'Home') next = TABS[0];
      else if (e.key === 'End') next = TABS[TABS.length - 1];
      if (next) {
        e.preventDefault();
        select(next.id, true);
      }
    };
    return h(
      'div',
      { class: 'c-tab' },
      h(
        'div',
        { class: 'c-tab__list', role: 'tablist', 'aria-label': 'Admin sections', onKeydown: onKey },
        TABS.map((t) =>
          h(
            'button',
            {
              type: 'button',
              role: 'tab',
              id: `mlc-tab-${t.id}`,
              class: ['c-tab__list__item', state.tab === t.id && 'is-selected'],
              'aria-selected': state.tab === t.id ? 'true' : 'false',
              'aria-controls': `mlc-panel-${t.id}`,
              tabindex: state.tab === t.id ? '0' : '-1',
              onClick: () => select(t.id),
              dataset: { key: `tab-${t.id}` },
            },
            t.label,
          ),
        ),
      ),
    );
  }

  function panel(id) {
    if (id === 'sync') return syncPanel();
    if (id === 'dead-letters') return deadLettersPanel();
    if (id === 'mapping') return mappingPanel();
    return pluginsPanel();
  }

  function syncPanel() {
    const st = state.status;
    const runs = state.runs;
    const parts = [];
    if (st.busy && !st.data) parts.push(loading('Loading the sync status…'));
    if (st.error) parts.push(errorCallout(st.error, ctx, { onRetry: () => loadTab('sync') }));
    if (st.data) parts.push(statusSummary(st.data));
    parts.push(
      h(
        'div',
        { class: 'mlc-actions' },
        button('Run sync now', { kind: 'primary', onClick: () => runSync(false), busy: state.syncStart.busy, key: 'sync-run' }),
        button('Full sync', { onClick: () => runSync(true), busy: state.syncStart.busy, key: 'sync-full' }),
        button('Reload', { onClick: () => loadTab('sync'), key: 'sync-reload' }),
      ),
    );
    if (state.syncStart.error) parts.push(errorCallout(state.syncStart.error, ctx));
    if (state.syncStart.result) parts.push(callout('success', `Sync run ${state.syncStart.result.run_id} started`, 'Its progress shows in the runs below; reload to follow it.'));
    if (runs.busy && !runs.data) parts.push(loading('Loading sync runs…'));
    if (runs.error) parts.push(errorCallout(runs.error, ctx));
    const list = runs.data?.runs ?? [];
    if (runs.data && !list.length) parts.push(h('p', { class: 'mlc-muted' }, 'No sync has run yet.'));
    if (list.length) {
      const points = list
        .filter((r) => r.started_at)
        .map((r) => ({ at: r.started_at, created: Number(r.stats?.created ?? 0), updated: Number(r.stats?.updated ?? 0) }))
        .reverse();
      parts.push(h('h2', { class: 'mlc-subtitle' }, 'Organizations created and updated'), syncChart(points, { locale }));
      parts.push(h('h2', { class: 'mlc-subtitle' }, 'Sync runs'), runsTable(list));
    }
    return parts;
  }

  function statusSummary(s) {
    const q = s.queue ?? {};
    const last = s.last_run;
    return h(
      'div',
      { class: 'mlc-stats', dataset: { testid: 'sync-status' } },
      stat('Organizations', s.organizations),
      stat('Indexed invoices', s.indexed_invoices),
      stat('Queued enrichments', q.queued),
      stat('Dead letters', q.dead, Number(q.dead) > 0 ? 'red' : undefined),
      stat('Last run', last ? `${last.status} · ${formatInstant(last.started_at, locale)}` : 'never'),
      stat('Next run', s.next_run_at ? formatInstant(s.next_run_at, locale) : '—'),
    );
  }

  function stat(label, value, tone) {
    return h('div', { class: ['mlc-stat', tone && `mlc-stat--${tone}`] }, h('span', { class: 'mlc-label' }, label), h('strong', {}, value ?? '—'));
  }

  function runsTable(list) {
    const cols = ['Started', 'Trigger', 'Status', 'Duration', 'Pages', 'Read', 'Created', 'Updated', 'Unchanged', 'Failed', 'Error'];
    const statusTone = { succeeded: 'green', failed: 'red', running: 'blue', abandoned: 'yellow' };
    return h(
      'div',
      { class: 'mlc-scroll' },
      h(
        'table',
        { class: ['c-table', 'c-table--sm'], dataset: { testid: 'sync-runs' } },
        h('thead', {}, h('tr', { class: ['c-table__row', 'c-table__row--header'] }, cols.map((c) => h('th', { class: 'c-table__row__cell', scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          list.map((r) => {
            const st = r.stats ?? {};
            return h(
              'tr',
              { class: 'c-table__row' },
              [
                formatInstant(r.started_at, locale),
                `${r.trigger}${r.full ? ' (full)' : ''}`,
                tag(r.status, statusTone[r.status] ?? 'grey'),
                r.finished_at ? formatDuration(r.started_at, r.finished_at) : '…',
                st.pages,
                st.suppliers_read,
                st.created,
                st.updated,
                st.unchanged,
                Number(st.failed) > 0 ? h('strong', { class: 'mlc-overdue' }, st.failed) : st.failed,
                r.error ?? '',
              ].map((v) => h('td', { class: 'c-table__row__cell' }, v ?? '—')),
            );
          }),
        ),
      ),
    );
  }

  function deadLettersPanel() {
    const d = state.deadLetters;
    const parts = [h('p', { class: 'mlc-muted' }, 'Ticket enrichments that failed every retry. Requeue one after fixing its cause.')];
    if (d.busy && !d.data) parts.push(loading('Loading dead letters…'));
    if (d.error) parts.push(errorCallout(d.error, ctx, { onRetry: () => loadTab('dead-letters') }));
    const list = d.data?.dead_letters ?? [];
    if (d.data && !list.length) parts.push(callout('success', 'The dead-letter queue is empty', 'Every ticket enrichment went through.'));
    if (list.length) {
      parts.push(
        h(
          'div',
          { class: 'mlc-scroll' },
          h(
            'table',
            { class: ['c-table', 'c-table--sm'], dataset: { testid: 'dead-letters' } },
            h('thead', {}, h('tr', { class: ['c-table__row', 'c-table__row--header'] }, ['Ticket', 'Event', 'Attempts', 'Last error', 'Since', ''].map((c) => h('th', { class: 'c-table__row__cell', scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              list.map((dl) => {
                const rq = state.requeue.get(dl.id);
                return h(
                  'tr',
                  { class: 'c-table__row' },
                  h('td', { class: 'c-table__row__cell' }, `#${dl.ticket_id}`),
                  h('td', { class: 'c-table__row__cell' }, dl.event_type, h('div', { class: 'mlc-muted' }, dl.event_id)),
                  h('td', { class: 'c-table__row__cell' }, dl.attempts),
                  h('td', { class: 'c-table__row__cell mlc-error-text' }, dl.last_error),
                  h('td', { class: 'c-table__row__cell' }, formatInstant(dl.created_at, locale)),
                  h('td', { class: 'c-table__row__cell' }, button('Requeue', { onClick: () => requeue(dl.id), busy: rq?.busy, key: `requeue-${dl.id}`, ariaLabel: `Requeue the enrichment of ticket ${dl.ticket_id}` }), rq?.error ? errorCallout(rq.error, ctx) : null),
                );
              }),
            ),
          ),
        ),
      );
    }
    for (const [id, rq] of state.requeue) {
      if (rq.result) parts.push(callout('success', `Dead letter ${id} requeued`, `Status: ${rq.result.status}.`));
    }
    return parts;
  }

  function mappingPanel() {
    const m = state.mapping;
    const p = state.preview;
    const parts = [];
    if (m.busy && !m.data) parts.push(loading('Loading the mapping…'));
    if (m.error) parts.push(errorCallout(m.error, ctx, { onRetry: () => loadTab('mapping') }));
    if (m.data) {
      parts.push(
        h('h2', { class: 'mlc-subtitle' }, 'Current mapping'),
        h('p', { class: 'mlc-muted' }, 'Edit it with `ml-connector mapping set` or PUT /admin/v1/{tenant}/mapping; this panel shows it and previews it.'),
        h('pre', { class: 'mlc-code', tabindex: '0', 'aria-label': 'The mapping as JSON', dataset: { testid: 'mapping-json' } }, JSON.stringify(m.data, null, 2)),
      );
    }
    parts.push(
      h('h2', { class: 'mlc-subtitle' }, 'Preview on a real record'),
      h(
        'form',
        { class: 'mlc-inline-form', onSubmit: preview },
        h('label', { class: 'c-field__label', for: 'mlc-preview-subject' }, 'Record'),
        h(
          'select',
          { id: 'mlc-preview-subject', class: ['c-field__input', 'c-field__input--select', 'mlc-select'], onChange: (e) => (state.preview.subject = e.target.value), dataset: { key: 'preview-subject' } },
          h('option', { value: 'invoice', selected: p.subject === 'invoice' }, 'Invoice number'),
          h('option', { value: 'supplier', selected: p.subject === 'supplier' }, 'Supplier ID'),
        ),
        h('label', { class: 'c-field__label mlc-visually-hidden', for: 'mlc-preview-value' }, 'Invoice number or supplier ID'),
        h('input', { id: 'mlc-preview-value', class: 'c-field__input', value: p.value, placeholder: 'INV-2026-0042', onInput: (e) => (state.preview.value = e.target.value), dataset: { key: 'preview-value' } }),
        button('Preview', { type: 'submit', kind: 'primary', busy: p.busy, key: 'preview-submit' }),
      ),
      p.hint ? h('p', { class: 'c-field__message mlc-hint', role: 'alert' }, p.hint) : null,
      p.busy ? loading('Mapping…') : null,
      p.error ? errorCallout(p.error, ctx) : null,
      p.result
        ? h(
            'div',
            { tabindex: '-1', dataset: { key: 'preview-result', testid: 'preview-result' } },
            callout('info', `Source: ${p.result.source}`, ...(p.result.notes ?? []).map((n) => (typeof n === 'string' ? n : JSON.stringify(n)))),
            writesTable(p.result.writes, 'Writes this record would get'),
          )
        : null,
    );
    return parts;
  }

  function pluginsPanel() {
    const pl = state.plugins;
    const parts = [];
    if (pl.busy && !pl.data) parts.push(loading('Loading plugins…'));
    if (pl.error) parts.push(errorCallout(pl.error, ctx, { onRetry: () => loadTab('plugins') }));
    const list = pl.data?.plugins ?? [];
    if (pl.data && !list.length) parts.push(h('p', { class: 'mlc-muted' }, 'No plugin uploaded: the declarative mapping is used.'));
    if (list.length) {
      parts.push(h('ul', { class: 'mlc-plugins', dataset: { testid: 'plugins' } }, list.map((p) => h('li', {}, pluginCard(p, p.id === pl.data.active_id)))));
    }
    parts.push(
      h(
        'div',
        { class: 'mlc-actions' },
        button('Roll back to the previous version', { onClick: rollback, busy: state.rollback.busy, key: 'rollback' }),
      ),
      state.rollback.error ? errorCallout(state.rollback.error, ctx) : null,
      state.rollback.result ? callout('success', `Version ${state.rollback.result.version} is active again`, state.rollback.result.name) : null,
      uploadForm(),
    );
    return parts;
  }

  function pluginCard(p, active) {
    const a = state.pluginAction.get(p.id);
    const input = state.dryRunInput.get(p.id) ?? { mode: 'invoice', value: '' };
    const statusTone = { active: 'green', uploaded: 'blue', retired: 'grey', rolled_back: 'yellow' };
    return h(
      'article',
      { class: 'mlc-card', dataset: { testid: 'plugin', plugin: String(p.id) } },
      h('header', { class: 'mlc-card__head' }, h('h3', { class: 'mlc-title' }, `v${p.version} ${p.name}`), tag(active ? 'active' : p.status, statusTone[active ? 'active' : p.status] ?? 'grey')),
      details([
        ['Size', `${Math.round(Number(p.size_bytes) / 1024)} KiB`],
        ['SHA-256', h('code', {}, String(p.sha256).slice(0, 16) + '…')],
        ['Uploaded', formatInstant(new Date(Number(p.created_at)).toISOString(), locale)],
        ['Last dry-run', p.dry_run_at ? `${p.dry_run_ok ? 'passed' : 'failed'} · ${formatInstant(new Date(Number(p.dry_run_at)).toISOString(), locale)}` : 'never'],
      ]),
      h(
        'form',
        {
          class: 'mlc-inline-form',
          onSubmit: (e) => {
            e.preventDefault();
            let sample;
            try {
              sample = dryRunSample(p.id);
            } catch (err) {
              state.pluginAction.set(p.id, { kind: 'dry-run', error: { code: 'invalid_sample', status: 400, message: `The sample is not valid JSON: ${err.message}` } });
              render();
              return;
            }
            pluginAction(p.id, 'dry-run', () => api.dryRunPlugin(p.id, sample));
          },
        },
        h('label', { class: 'c-field__label', for: `mlc-dry-mode-${p.id}` }, 'Dry-run on'),
        h(
          'select',
          { id: `mlc-dry-mode-${p.id}`, class: ['c-field__input', 'c-field__input--select', 'mlc-select'], onChange: (e) => state.dryRunInput.set(p.id, { ...input, mode: e.target.value }) && render() },
          h('option', { value: 'invoice', selected: input.mode === 'invoice' }, 'an invoice number'),
          h('option', { value: 'json', selected: input.mode === 'json' }, 'a sample (JSON)'),
        ),
        input.mode === 'invoice'
          ? h('input', { class: 'c-field__input', 'aria-label': 'Invoice number for the dry-run', placeholder: 'INV-2026-0042', value: input.value, onInput: (e) => state.dryRunInput.set(p.id, { ...input, value: e.target.value }), dataset: { key: `dry-value-${p.id}` } })
          : h('textarea', { class: ['c-field__input', 'c-field__input--area'], rows: 6, 'aria-label': 'Sample JSON for the dry-run', onInput: (e) => state.dryRunInput.set(p.id, { ...input, value: e.target.value }), dataset: { key: `dry-value-${p.id}` } }, input.value),
        button('Dry-run', { type: 'submit', busy: a?.busy && a.kind === 'dry-run', key: `dry-run-${p.id}` }),
        button('Activate', {
          onClick: () => pluginAction(p.id, 'activate', () => api.activatePlugin(p.id)),
          kind: 'primary',
          disabled: active || !p.dry_run_ok,
          busy: a?.busy && a.kind === 'activate',
          key: `activate-${p.id}`,
          ariaLabel: p.dry_run_ok ? `Activate version ${p.version}` : `Activate version ${p.version} (needs a passing dry-run first)`,
        }),
      ),
      a && !a.busy ? h('div', { tabindex: '-1', dataset: { key: `plugin-result-${p.id}` } }, pluginResult(a)) : null,
    );
  }

  function pluginResult(a) {
    if (a.error) return errorCallout(a.error, ctx);
    if (a.kind === 'activate') return callout('success', `Version ${a.result.version} is active`, 'New field writes use it from now on.');
    const r = a.result;
    return h(
      'div',
      { dataset: { testid: 'dry-run-result' } },
      callout(r.ok ? 'success' : 'error', r.ok ? `Dry-run passed in ${Number(r.duration_ms).toFixed(1)} ms` : `Dry-run failed: ${r.outcome}`, r.message, 'Nothing was written to Zendesk.'),
      writesTable(r.writes, 'Writes the plugin would make'),
    );
  }

  function uploadForm() {
    const u = state.upload;
    return h(
      'section',
      { class: 'mlc-section', 'aria-labelledby': 'mlc-upload-title' },
      h('h2', { id: 'mlc-upload-title', class: 'mlc-subtitle' }, 'Upload a new version'),
      h(
        'form',
        { class: 'mlc-inline-form', onSubmit: upload },
        h('label', { class: 'c-field__label', for: 'mlc-plugin-file' }, 'Component (.wasm)'),
        h('input', { id: 'mlc-plugin-file', type: 'file', accept: '.wasm,application/wasm', class: 'c-field__input', dataset: { key: 'plugin-file' } }),
        h('label', { class: 'c-field__label', for: 'mlc-plugin-name' }, 'Name'),
        h('input', { id: 'mlc-plugin-name', class: 'c-field__input', value: u.name, placeholder: 'po-first', onInput: (e) => (state.upload.name = e.target.value), dataset: { key: 'plugin-name' } }),
        button('Upload', { type: 'submit', kind: 'primary', busy: u.busy, key: 'plugin-upload' }),
      ),
      h('p', { class: 'mlc-muted' }, 'Large components (JavaScript plugins are ~12 MB) may exceed what Zendesk relays; upload those with `ml-connector plugin upload`.'),
      u.hint ? h('p', { class: 'c-field__message mlc-hint', role: 'alert' }, u.hint) : null,
      u.error ? errorCallout(u.error, ctx) : null,
      u.result ? callout('success', `Uploaded version ${u.result.version} (${u.result.name})`, 'Dry-run it, then activate it.') : null,
    );
  }

  loadTab('sync');
  render();
  return { reload: () => loadTab(state.tab) };
}

function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
