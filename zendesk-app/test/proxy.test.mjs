// The simulated Zendesk app proxy: secure settings stay server-side and are used only within their scopes and
// for allowed domains; the JWT is signed as Zendesk does (HS256, claims + iat + exp), checked here with an
// independent HMAC computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ProxyRefusal, resolveRequest } from '../host/proxy.mjs';
import { agentRequestOptions, adminRequestOptions } from '../src/api.js';

const parameters = [
  { name: 'backend_url', type: 'url' },
  { name: 'shared_secret', type: 'text', secure: true, scopes: ['jwt_secret_key'] },
  { name: 'admin_key', type: 'text', secure: true, scopes: ['header'] },
  { name: 'legacy', type: 'text', secure: true },
];
const installation = { parameters, settings: { backend_url: 'https://mlc.acme.com', shared_secret: 's3cret-value', admin_key: 'mlc_admin_k', legacy: 'L' }, domainWhitelist: ['mlc.acme.com'] };

test('an agent request gets an HS256 token signed with the shared secret, with iat and exp', () => {
  const r = resolveRequest(agentRequestOptions({ baseUrl: 'https://mlc.acme.com', tenant: 'acme', path: 'search', query: { q: 'INV' } }), installation, { nowSeconds: 1_800_000_000 });
  const token = r.headers.Authorization.replace(/^Bearer /, '');
  const [h, p, sig] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url')), { iat: 1_800_000_000, exp: 1_800_000_300 });
  const expected = createHmac('sha256', 's3cret-value').update(`${h}.${p}`).digest('base64url');
  assert.equal(sig, expected);
  assert.deepEqual(r.usedSettings, ['shared_secret']);
});

test('the admin key is applied in the header, its only scope', () => {
  const r = resolveRequest(adminRequestOptions({ baseUrl: 'https://mlc.acme.com', tenant: 'acme', path: 'status' }), installation);
  assert.equal(r.headers.Authorization, 'Bearer mlc_admin_k');
  assert.equal(r.jwt, null);
});

test('a secure setting outside its scopes is refused', () => {
  assert.throws(() => resolveRequest({ url: 'https://mlc.acme.com/?k={{setting.admin_key}}', secure: true }, installation), (e) => e instanceof ProxyRefusal && /may not be used in the url/.test(e.message));
  assert.throws(() => resolveRequest({ url: 'https://mlc.acme.com/', secure: true, headers: { X: '{{setting.shared_secret}}' } }, installation), ProxyRefusal);
  assert.throws(() => resolveRequest({ url: 'https://mlc.acme.com/', secure: true, jwt: { secret_key: '{{setting.admin_key}}', expiry: 60 } }, installation), ProxyRefusal);
  // A secure setting without scopes may go anywhere (Zendesk's legacy behaviour; the validator warns about it).
  assert.equal(resolveRequest({ url: 'https://mlc.acme.com/?l={{setting.legacy}}', secure: true }, installation).url, 'https://mlc.acme.com/?l=L');
});

test('secure requests only go to allowed domains; without secure: true nothing is substituted', () => {
  assert.throws(() => resolveRequest({ url: 'https://evil.example.com/', secure: true, headers: { Authorization: 'Bearer {{setting.admin_key}}' } }, installation), (e) => e.status === 403);
  const plain = resolveRequest({ url: 'https://other.example.com/', headers: { Authorization: 'Bearer {{setting.admin_key}}' } }, installation);
  assert.equal(plain.headers.Authorization, 'Bearer {{setting.admin_key}}');
  assert.throws(() => resolveRequest({ url: 'https://mlc.acme.com/', jwt: { secret_key: 'x' } }, installation), /secure: true/);
  const wildcard = { ...installation, domainWhitelist: ['*.acme.com'] };
  assert.equal(resolveRequest({ url: 'https://mlc.acme.com/x', secure: true }, wildcard).url, 'https://mlc.acme.com/x');
  assert.throws(() => resolveRequest({ url: 'https://acme.com.evil.example/x', secure: true }, wildcard), ProxyRefusal);
});
