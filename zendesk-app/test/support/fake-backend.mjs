// THROW-AWAY FAKE BACKEND — for the host/protocol plumbing tests only (stage 1 of issue 15).
//
// It answers a handful of agent and admin API calls with canned data shaped like docs/api.md, and checks the
// credentials the way the real server must (HS256 JWT with the shared secret; the admin key). It exists only so
// the ZAF host (host/) and the app's use of the SDK can be exercised before the real agent API exists. The
// browser tests that count (test/e2e-real.test.mjs) run against the real ml-connector binary and simulators.
import { createServer } from 'node:http';
import { verifyHs256 } from '../../host/jwt.mjs';

const invoice = (over) => ({
  reference_id: 'SUPPLIER_INVOICE-3-1042',
  invoice_number: 'INV-2026-0042',
  workday_invoice_number: 'SINV-000123',
  supplier: { supplier_id: 'S-00042', name: 'Acme Tools' },
  currency: 'USD',
  amount: '18250.00',
  credits: '250.00',
  amount_paid: '10000.00',
  amount_due: '8000.00',
  invoice_date: '2026-10-01',
  due_date: '2026-10-31',
  payment_status: 'overdue',
  days_overdue: 33,
  document_status: 'approved',
  on_hold: false,
  po_number: 'PO-0001234',
  purchase_order: { number: 'PO-0001234', status: 'issued', total: '20000.00', currency: 'USD', date: '2026-09-15' },
  payments: [{ reference: 'PAY-0000881', date: '2026-11-05', amount: '10000.00', currency: 'USD', status: 'paid', method: 'ACH' }],
  adjustments: [{ reference: 'SUPPLIER_INVOICE_ADJUSTMENT-3-17', number: 'CM-2026-0007', date: '2026-11-01', amount: '-250.00', memo: 'damaged goods' }],
  as_of: new Date(Date.now() - 120_000).toISOString(),
  stale: false,
  ...over,
});

const supplier = () => ({
  supplier_id: 'S-00042',
  name: 'Acme Tools',
  status: 'active',
  category: 'Raw materials',
  payment_terms: 'NET_30',
  currency: 'USD',
  contact: { email: 'ap@acmetools.com', phone: '+1 415 555 0100', address: '1 Main St\nSpringfield, IL 62701\nUS' },
  totals: [{ currency: 'USD', open_amount: '26250.00', overdue_amount: '8000.00', open_invoices: 3, overdue_invoices: 1 }],
  zendesk_organization_id: 9000001234,
  as_of: new Date(Date.now() - 120_000).toISOString(),
  stale: false,
});

const paid = () => invoice({ reference_id: 'SUPPLIER_INVOICE-3-1043', invoice_number: 'INV-2026-0043', workday_invoice_number: 'SINV-000124', amount: '8000.00', credits: '0.00', amount_paid: '8000.00', amount_due: '0.00', payment_status: 'paid', days_overdue: null, adjustments: [], due_date: '2026-11-30', invoice_date: '2026-11-01', payments: [{ reference: 'PAY-0000902', date: '2026-11-20', amount: '8000.00', currency: 'USD', status: 'paid', method: 'Wire' }] });

/** Starts the fake on loopback; `calls` records what reached it (path, query, jwt claims, body). */
export async function startFakeBackend({ tenant, sharedSecret, adminKey }) {
  const calls = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const body = await new Promise((r) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => r(b));
    });
    const json = (status, value) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    const fail = (status, code, message) => json(status, { error: { code, message, request_id: 'req-fake-1' } });
    const auth = req.headers.authorization ?? '';
    const call = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, authorization: auth.split(' ')[0] };
    calls.push(call);

    const agent = url.pathname.match(new RegExp(`^/api/v1/${tenant}/(.*)$`));
    const admin = url.pathname.match(new RegExp(`^/admin/v1/${tenant}/(.*)$`));
    if (agent) {
      if (!auth.startsWith('Bearer ')) return fail(401, 'missing_token', 'no bearer token');
      try {
        call.claims = verifyHs256(auth.slice(7), sharedSecret);
      } catch (err) {
        return fail(401, err.message, 'the token was refused');
      }
      const path = agent[1];
      let m;
      if ((m = /^tickets\/(\d+)\/context$/.exec(path))) {
        if (m[1] === '666') return fail(502, 'workday_unavailable', 'Workday did not answer and nothing is cached');
        if (m[1] === '404') {
          return json(200, { ticket_id: 404, supplier: null, supplier_match: null, referenced_invoices: [], recent_invoices: [], unresolved_references: [], as_of: new Date().toISOString(), stale: false });
        }
        const stale = m[1] === '777';
        const asOf = stale ? '2026-12-03T10:42:00Z' : new Date(Date.now() - 120_000).toISOString();
        return json(200, {
          ticket_id: Number(m[1]),
          supplier: supplier(),
          supplier_match: 'organization',
          referenced_invoices: [invoice({ stale, as_of: asOf })],
          recent_invoices: [paid()],
          unresolved_references: ['INV-9999'],
          as_of: asOf,
          stale,
          ...(stale ? { stale_reason: 'Workday timed out after 10 s' } : {}),
        });
      }
      if (path === 'search') {
        const q = url.searchParams.get('q') ?? '';
        if (q.length < 2) return fail(400, 'query_too_short', 'q needs 2 characters');
        const all = [invoice(), paid()].filter((i) => i.invoice_number.startsWith(q) || i.workday_invoice_number.startsWith(q));
        return json(200, { query: q, invoices: all, suppliers: [] });
      }
      if ((m = /^tickets\/(\d+)\/attach$/.exec(path)) && req.method === 'POST') {
        const wanted = JSON.parse(body || '{}').invoice;
        return json(200, {
          ticket_id: Number(m[1]),
          invoice: invoice({ invoice_number: wanted }),
          source: 'declarative',
          written: [
            { target: { kind: 'ticket_field', id: 360000101 }, value: { type: 'text', value: 'PO-0001234' } },
            { target: { kind: 'ticket_field', id: 360000103 }, value: { type: 'decimal', value: '8000.00' } },
            { target: { kind: 'tag', name: 'wd_overdue' }, value: { type: 'checkbox', value: true } },
          ],
          unchanged: false,
        });
      }
      return fail(404, 'not_found', `no such endpoint ${path}`);
    }
    if (admin) {
      if (auth !== `Bearer ${adminKey}`) return fail(401, 'invalid_credentials', 'the admin key is not valid for this tenant');
      const path = admin[1];
      if (path === 'status') {
        return json(200, { tenant, last_run: null, next_run_at: '2026-12-03T08:00:00Z', schedule: '*/15 * * * *', queue: { queued: 2, leased: 0, dead: 1, oldest_queued_at: null }, organizations: 120, indexed_invoices: 950 });
      }
      if (path === 'sync/runs') {
        const runs = [0, 1, 2, 3].map((i) => ({ id: 40 - i, trigger: i === 0 ? 'manual' : 'schedule', full: i === 3, status: i === 1 ? 'failed' : 'succeeded', started_at: new Date(Date.UTC(2026, 11, 3, 7 - i, 0)).toISOString(), finished_at: new Date(Date.UTC(2026, 11, 3, 7 - i, 1, 12)).toISOString(), stats: { pages: 2, suppliers_read: 120, created: [3, 0, 5, 110][i], updated: [7, 2, 4, 0][i], unchanged: 110, failed: i === 1 ? 2 : 0, invoices_indexed: 40, rate_limit_waits: 0 }, error: i === 1 ? 'Zendesk answered 429 three times' : null }));
        return json(200, { runs });
      }
      if (path === 'dead-letters') return json(200, { dead_letters: [{ id: 7, event_id: 'evt-1', event_type: 'zen:event-type:ticket.created', ticket_id: 101, attempts: 5, last_error: 'Workday timed out', created_at: '2026-12-02T10:00:00Z', updated_at: '2026-12-02T11:00:00Z' }] });
      if (path === 'dead-letters/7/requeue') return json(200, { id: 7, status: 'queued' });
      if (path === 'mapping') return json(200, { mapping: { invoice: [{ source: 'invoice.amount_due', ticket_field: 360000103 }] }, plugin_failure_policy: 'fallback' });
      if (path === 'mapping/preview') return json(200, { writes: [{ target: { kind: 'ticket_field', id: 360000103 }, value: { type: 'decimal', value: '8000.00' } }], source: 'declarative', notes: [] });
      if (path === 'plugins') return json(200, { plugins: [], active_id: null });
      return fail(404, 'not_found', `no such endpoint ${path}`);
    }
    return fail(404, 'not_found', 'no such endpoint');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, calls, close: () => new Promise((r) => server.close(r)) };
}
