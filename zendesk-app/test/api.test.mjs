// The request options the app hands to client.request: every backend call is secure and goes through the
// proxy; agent calls carry a proxy-signed HS256 JWT, admin calls the admin key; errors become ApiErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, JWT_EXPIRY_SECONDS, adminRequestOptions, agentRequestOptions, createApi, toApiError } from '../src/api.js';

test('agent calls: secure, proxied, signed with the shared secret placeholder', () => {
  const o = agentRequestOptions({ baseUrl: 'https://mlc.acme.com/', tenant: 'acme', path: 'tickets/7/context', query: { subject: 'INV 1 & 2', refresh: false, empty: '' } });
  assert.equal(o.url, 'https://mlc.acme.com/api/v1/acme/tickets/7/context?subject=INV+1+%26+2');
  assert.equal(o.secure, true);
  assert.equal(o.cors, false);
  assert.deepEqual(o.headers, { Authorization: 'Bearer {{jwt.token}}' });
  assert.deepEqual(o.jwt, { algorithm: 'HS256', secret_key: '{{setting.shared_secret}}', expiry: JWT_EXPIRY_SECONDS });
  assert.equal(o.data, undefined);
  const post = agentRequestOptions({ baseUrl: 'https://mlc.acme.com', tenant: 'acme', path: 'tickets/7/attach', method: 'POST', body: { invoice: 'INV-1' } });
  assert.equal(post.type, 'POST');
  assert.equal(post.contentType, 'application/json');
  assert.equal(post.data, '{"invoice":"INV-1"}');
});

test('admin calls: secure, the admin key as a header placeholder, no JWT', () => {
  const o = adminRequestOptions({ baseUrl: 'https://mlc.acme.com', tenant: 'acme', path: 'sync/runs', query: { limit: 50 } });
  assert.equal(o.url, 'https://mlc.acme.com/admin/v1/acme/sync/runs?limit=50');
  assert.equal(o.secure, true);
  assert.deepEqual(o.headers, { Authorization: 'Bearer {{setting.admin_key}}' });
  assert.equal(o.jwt, undefined);
});

test('rejections become ApiErrors with the server\u2019s code and request id', () => {
  const e = toApiError({ status: 502, responseText: '{"error":{"code":"workday_unavailable","message":"down","request_id":"r-1"}}' });
  assert.ok(e instanceof ApiError);
  assert.deepEqual([e.status, e.code, e.message, e.requestId], [502, 'workday_unavailable', 'down', 'r-1']);
  assert.equal(toApiError({ status: 0, statusText: 'timeout' }).code, 'timeout');
  assert.equal(toApiError({ status: 0, statusText: 'error' }).code, 'network');
  assert.equal(toApiError({ status: 500, statusText: 'Internal', responseText: '<html>' }).code, 'http_500');
});

test('the client sends ticket data as query parameters and parses string answers', async () => {
  const seen = [];
  const client = { request: async (o) => (seen.push(o), '{"ok":true}') };
  const api = createApi(client, { baseUrl: 'https://mlc.acme.com', tenant: 'acme' });
  assert.deepEqual(await api.ticketContext({ id: 9, subject: 'S', description: 'D', organizationExternalId: 'S-1', requesterEmail: 'a@b.c' }, { refresh: true }), { ok: true });
  assert.equal(seen[0].url, 'https://mlc.acme.com/api/v1/acme/tickets/9/context?subject=S&description=D&organization_external_id=S-1&requester_email=a%40b.c&refresh=true');
  await assert.rejects(createApi({ request: async () => Promise.reject({ status: 401, responseJSON: { error: { code: 'invalid_signature', message: 'bad' } } }) }, { baseUrl: 'https://x.example.com', tenant: 't' }).search('INV'), (e) => e.code === 'invalid_signature' && e.status === 401);
});
