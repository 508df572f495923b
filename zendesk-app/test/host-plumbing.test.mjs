// The ZAF host and the app's use of the SDK, in headless Chromium: handshake, get, invoke resize, request through
// the proxy with a server-signed JWT, the nav-bar location, keyboard use. The backend here is the THROW-AWAY
// FAKE in test/support/fake-backend.mjs (plumbing only); the suite that shows real data is e2e-real.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../scripts/build.mjs';
import { startHost } from '../host/server.mjs';
import { startFakeBackend } from './support/fake-backend.mjs';
import { launch, screenshot } from './support/browser.mjs';

const TENANT = 'acme';
const SHARED_SECRET = 'plumbing-shared-secret-5f2a9c81d0';
const ADMIN_KEY = `mlc_admin_${'p'.repeat(43)}`;
const TIMEOUT = 20_000;

let fake;
let host;
let chrome;

const tickets = [
  { id: 101, subject: 'Where is the rest of the payment for INV-2026-0042?', description: 'Hello, we are still missing 8,000 USD on INV-2026-0042 and INV-9999.', requester: { name: 'Ann Payable', email: 'ap@acmetools.com' }, organization: { id: 9000001234, name: 'Acme Tools', externalId: 'S-00042' } },
  { id: 666, subject: 'Payment status?', description: 'Any news?', requester: { name: 'Bo', email: 'bo@example.com' }, organization: null },
  { id: 404, subject: 'Question', description: 'Hi', requester: { name: 'Cy', email: 'cy@unknown.example' }, organization: null },
  { id: 777, subject: 'INV-2026-0042 again', description: 'INV-2026-0042', requester: { name: 'Ann Payable', email: 'ap@acmetools.com' }, organization: { id: 9000001234, name: 'Acme Tools', externalId: 'S-00042' } },
];

before(async () => {
  await build({ quiet: true });
  fake = await startFakeBackend({ tenant: TENANT, sharedSecret: SHARED_SECRET, adminKey: ADMIN_KEY });
  host = await startHost({
    tenant: TENANT,
    backend_url: fake.url,
    settings: { shared_secret: SHARED_SECRET, admin_key: ADMIN_KEY },
    domain_whitelist: ['127.0.0.1'],
    tickets,
  });
  chrome = await launch();
});

after(async () => {
  await chrome?.close();
  await host?.close();
  await fake?.close();
});

async function open(path) {
  const page = await chrome.browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(`${host.url}${path}`);
  return { page, app: page.frameLocator('#zaf-app') };
}

test('the sidebar loads through the handshake, gets the ticket, calls the backend with a proxy-signed JWT and resizes', async () => {
  const { page, app } = await open('/tickets/101');
  await app.getByTestId('supplier-card').waitFor();
  assert.match(await app.getByTestId('supplier-card').innerText(), /Acme Tools[\s\S]*S-00042[\s\S]*ap@acmetools\.com/);
  const overdue = app.locator('[data-testid="invoice"][data-invoice="INV-2026-0042"]');
  assert.match(await overdue.innerText(), /Overdue · 33 days/);
  assert.match(await app.getByTestId('freshness').innerText(), /^As of \d+ min ago$/);
  assert.match(await app.locator('body').innerText(), /Not found in Workday: INV-9999/);

  // What reached the backend: the ticket's data as query parameters, and a token signed with the shared secret
  // that lives 300 s (the fake verified the signature).
  const call = fake.calls.find((c) => c.path === `/api/v1/${TENANT}/tickets/101/context`);
  assert.ok(call, 'the context call reached the backend');
  assert.deepEqual(
    { subject: call.query.subject, organization_external_id: call.query.organization_external_id, requester_email: call.query.requester_email },
    { subject: tickets[0].subject, organization_external_id: 'S-00042', requester_email: 'ap@acmetools.com' },
  );
  assert.equal(call.claims.exp - call.claims.iat, 300);
  const forwarded = host.requests().find((r) => r.url?.includes('/tickets/101/context'));
  assert.deepEqual(forwarded.usedSettings, ['shared_secret']);
  assert.equal(forwarded.authorizationScheme, 'Bearer');

  // The protocol: a handshake, get requests, and resize invocations that grew the iframe.
  const log = await page.evaluate(() => window.__zafLog);
  assert.ok(log.some((m) => m.key === 'iframe.handshake'));
  assert.ok(log.some((m) => m.kind === 'get' && m.params.includes('ticket.organization')));
  assert.ok(log.some((m) => m.kind === 'invoke' && m.params.resize));
  await page.waitForFunction(() => Number(document.getElementById('zaf-app').dataset.resized) > 0 && document.getElementById('zaf-app').getBoundingClientRect().height > 200);

  // No secret in the page or the app.
  for (const html of [await page.content(), await app.locator('html').innerHTML()]) {
    assert.ok(!html.includes(SHARED_SECRET) && !html.includes(ADMIN_KEY));
  }
  await screenshot(page, 'plumbing-sidebar');
  await page.close();
});

test('the keyboard opens an invoice, attaches it, and focus lands on what was written', async () => {
  const { page, app } = await open('/tickets/101');
  const toggle = app.locator('[data-invoice="INV-2026-0042"] .mlc-invoice__toggle').first();
  await toggle.waitFor();
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await app.getByRole('button', { name: 'Attach INV-2026-0042 to ticket' }).first().press('Enter');
  const result = app.getByTestId('attach-result');
  await result.waitFor();
  assert.match(await result.innerText(), /3 fields written[\s\S]*Ticket field 360000101[\s\S]*PO-0001234/);
  assert.equal(await result.evaluate((el) => el === document.activeElement), true);
  await screenshot(page, 'plumbing-attach');
  const attach = fake.calls.find((c) => c.path === `/api/v1/${TENANT}/tickets/101/attach`);
  assert.deepEqual(JSON.parse(attach.body), { invoice: 'INV-2026-0042' });
  await page.close();
});

test('search by invoice number', async () => {
  const { page, app } = await open('/tickets/101');
  await app.getByTestId('supplier-card').waitFor();
  const input = app.getByLabel('Invoice number or supplier name');
  await input.fill('I');
  await input.press('Enter');
  assert.match(await app.locator('.mlc-hint').innerText(), /at least 2 characters/);
  await input.fill('INV-2026-004');
  await input.press('Enter');
  await app.getByTestId('search-results').waitFor();
  assert.equal(await app.getByTestId('search-results').locator('[data-testid="invoice"]').count(), 2);
  await page.close();
});

test('error, stale and not-found states say what to do', async () => {
  let { page, app } = await open('/tickets/666');
  await app.getByRole('alert').first().waitFor();
  assert.match(await app.getByRole('alert').first().innerText(), /Workday is not answering[\s\S]*Try again in a few minutes/);
  assert.ok(await app.getByRole('button', { name: 'Try again' }).isVisible());
  await page.close();

  ({ page, app } = await open('/tickets/777'));
  await app.getByTestId('supplier-card').waitFor();
  assert.match(await app.locator('body').innerText(), /Workday is slow: showing cached data from \d\d:\d\d[\s\S]*Workday timed out after 10 s/);
  await page.close();

  ({ page, app } = await open('/tickets/404'));
  await app.getByTestId('supplier-missing').waitFor();
  assert.match(await app.getByTestId('supplier-missing').innerText(), /Supplier not found in Workday[\s\S]*Search by invoice number/);
  await page.close();
});

test('the nav-bar panel: status, chart, runs, dead letters, mapping preview; arrow keys move between tabs', async () => {
  const { page, app } = await open('/admin');
  await app.getByTestId('sync-runs').waitFor();
  assert.match(await app.getByTestId('sync-status').innerText(), /Organizations\s*120/i);
  assert.equal(await app.getByTestId('sync-chart').locator('circle').count(), 8);
  assert.match(await app.getByTestId('sync-runs').innerText(), /Zendesk answered 429 three times/);
  assert.equal(fake.calls.filter((c) => c.path.startsWith('/admin/')).every((c) => c.authorization === 'Bearer'), true);
  await screenshot(page, 'plumbing-admin');

  await app.getByRole('tab', { name: 'Sync' }).focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await app.getByRole('tab', { name: 'Dead letters' }).getAttribute('aria-selected'), 'true');
  await app.getByTestId('dead-letters').waitFor();
  await app.getByRole('button', { name: 'Requeue the enrichment of ticket 101' }).click();
  await app.getByText('Dead letter 7 requeued').waitFor();

  await app.getByRole('tab', { name: 'Dead letters' }).focus();
  await page.keyboard.press('ArrowRight');
  await app.getByTestId('mapping-json').waitFor();
  await app.getByLabel('Invoice number or supplier ID').fill('INV-2026-0042');
  await app.getByRole('button', { name: 'Preview' }).click();
  await app.getByTestId('preview-result').waitFor();
  assert.match(await app.getByTestId('preview-result').innerText(), /Ticket field 360000103[\s\S]*8000\.00/);
  const preview = fake.calls.find((c) => c.path.endsWith('/mapping/preview'));
  assert.deepEqual(JSON.parse(preview.body), { invoice: 'INV-2026-0042' });
  await page.close();
});

test('a wrong admin key or a backend outside the allow list is reported, not hidden', async () => {
  const other = await startHost({ tenant: TENANT, backend_url: fake.url, settings: { shared_secret: SHARED_SECRET, admin_key: 'mlc_admin_wrong' }, domain_whitelist: ['127.0.0.1'], tickets });
  const page = await chrome.browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(`${other.url}/admin`);
  const app = page.frameLocator('#zaf-app');
  await app.getByRole('alert').first().waitFor();
  assert.match(await app.getByRole('alert').first().innerText(), /admin key is not valid for tenant "acme"[\s\S]*ml-connector tenant admin-key acme/);
  await page.close();
  await other.close();

  const blocked = await startHost({ tenant: TENANT, backend_url: fake.url, settings: { shared_secret: SHARED_SECRET }, domain_whitelist: ['mlc.acme.test'], tickets });
  const p2 = await chrome.browser.newPage();
  p2.setDefaultTimeout(TIMEOUT);
  await p2.goto(`${blocked.url}/tickets/101`);
  const a2 = p2.frameLocator('#zaf-app');
  await a2.getByRole('alert').first().waitFor();
  assert.match(await a2.getByRole('alert').first().innerText(), /domainWhitelist/);
  assert.ok(blocked.requests().every((r) => r.refused));
  await p2.close();
  await blocked.close();
});
