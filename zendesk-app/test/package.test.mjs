// The package command: a zip with manifest.json, translations/ and assets/ at its root and nothing else, the
// backend's host in domainWhitelist, deterministic bytes, readable by a standard unzip, validating cleanly, and
// no secret in any asset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { packageApp } from '../scripts/package.mjs';
import { readZip, writeZip } from '../lib/zip.mjs';
import { readPngHeader } from '../lib/png.mjs';
import { validatePath } from '../scripts/validate.mjs';

const out = mkdtempSync(join(tmpdir(), 'mlc-app-pkg-'));
const SECRETS = [
  { name: 'shared_secret', value: 'test-shared-secret-0123456789abcdef' },
  { name: 'admin_key', value: `mlc_admin_${'x'.repeat(43)}` },
];
const quiet = () => {};
const pkg = await packageApp({ domains: ['https://mlc.acme.test'], outDir: out, forbidden: SECRETS, log: quiet });
const entries = new Map(readZip(readFileSync(pkg.path)).map((e) => [e.name, e.data]));
test.after(() => rmSync(out, { recursive: true, force: true }));

test('the zip holds exactly the app files at its root', () => {
  assert.deepEqual([...entries.keys()].sort(), [
    'assets/icon_nav_bar.svg',
    'assets/iframe.html',
    'assets/logo-small.png',
    'assets/logo.png',
    'assets/main.css',
    'assets/main.js',
    'manifest.json',
    'translations/en.json',
  ]);
  const manifest = JSON.parse(entries.get('manifest.json'));
  assert.deepEqual(manifest.domainWhitelist, ['mlc.acme.test']);
  assert.deepEqual([readPngHeader(entries.get('assets/logo.png')).width, readPngHeader(entries.get('assets/logo-small.png')).width], [320, 128]);
  assert.equal(readPngHeader(entries.get('assets/logo-small.png')).hasAlpha, true);
});

test('the zip validates, and a standard unzip reads it', () => {
  const result = validatePath(pkg.path);
  assert.deepEqual(result.errors, []);
  const listing = execFileSync('unzip', ['-Z1', pkg.path], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(listing, [...entries.keys()].sort());
  execFileSync('unzip', ['-tq', pkg.path]);
});

test('packaging is deterministic', async () => {
  const again = await packageApp({ domains: ['https://mlc.acme.test'], outDir: out, doBuild: false, forbidden: SECRETS, log: quiet });
  assert.equal(again.sha256, pkg.sha256);
});

test('no asset holds a secret; the shared secret appears only as its placeholder, as the jwt secret_key', () => {
  for (const [name, data] of entries) {
    for (const s of SECRETS) assert.ok(!data.includes(Buffer.from(s.value)), `${name} holds ${s.name}`);
  }
  const js = entries.get('assets/main.js').toString('utf8');
  const uses = [...js.matchAll(/\{\{setting\.shared_secret\}\}/g)];
  assert.equal(uses.length, 1);
  assert.match(js, /secret_key: "\{\{setting\.shared_secret\}\}"/);
  assert.match(js, /headers: \{ Authorization: "Bearer \{\{setting\.admin_key\}\}" \}/);
  assert.ok(!/http:\/\//.test(js), 'no http:// URL in the bundle');
  // The SDK is bundled, nothing comes from a CDN.
  assert.match(js, /iframe\.handshake/);
  assert.ok(!/zdassets|unpkg|jsdelivr/.test(entries.get('assets/iframe.html').toString('utf8')));
});

test('a package that would contain a secret value is refused', async () => {
  await assert.rejects(
    packageApp({ domains: ['https://mlc.acme.test'], outDir: out, doBuild: false, forbidden: [{ name: 'backend host', value: 'mlc.acme.test' }], log: quiet }),
    (err) => err.findings?.errors.some((e) => e.code === 'secret_value_in_package'),
  );
  await assert.rejects(packageApp({ domains: ['http://mlc.acme.test'], outDir: out, doBuild: false, log: quiet }), /HTTPS only/);
});

test('zip round trip keeps bytes and names', () => {
  const data = [
    { name: 'a/b.txt', data: Buffer.from('hello hello hello hello') },
    { name: 'c.bin', data: Buffer.from([0, 1, 2, 3]) },
  ];
  const back = readZip(writeZip(data));
  assert.deepEqual(back.map((e) => [e.name, e.data.toString('hex')]), data.map((e) => [e.name, e.data.toString('hex')]));
  assert.throws(() => writeZip([{ name: '../evil', data: Buffer.alloc(1) }]), /unsafe/);
});
