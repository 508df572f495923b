// The package validation: the app as committed passes; each way of breaking a manifest, a translation, an icon
// or the code is reported with its code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateFiles } from '../lib/validate.mjs';
import { encodePng } from '../lib/png.mjs';
import { build } from '../scripts/build.mjs';
import { appFiles } from '../scripts/validate.mjs';

await build({ quiet: true });
const { files: pristine } = appFiles();
const pristineManifest = JSON.parse(pristine.get('manifest.json').toString('utf8'));

/** The app's files with the manifest changed by `edit` (which may return a string to write raw text). */
function withManifest(edit) {
  const files = new Map(pristine);
  const m = structuredClone(pristineManifest);
  const out = edit(m) ?? m;
  files.set('manifest.json', Buffer.from(typeof out === 'string' ? out : JSON.stringify(out)));
  return files;
}
const codes = (result) => result.errors.map((e) => e.code);
function assertError(files, code, options) {
  const result = validateFiles(files, options);
  assert.ok(codes(result).includes(code), `expected error ${code}, got ${JSON.stringify(result.errors, null, 1)}`);
  return result;
}

test('the app as committed has no error', () => {
  const result = validateFiles(pristine);
  assert.deepEqual(result.errors, []);
  // The warnings are the expected ones: the example domain (package sets the real one) and the word "secret"
  // (the ZAF jwt option is called secret_key; the setting is shared_secret).
  assert.deepEqual(result.warnings.map((w) => w.code).sort(), ['example_domain', 'zendesk_secret_keyword']);
});

test('a missing, nested, invalid or duplicate-key manifest is reported', () => {
  const none = new Map(pristine);
  none.delete('manifest.json');
  assertError(none, 'missing_manifest');
  const nested = new Map(none);
  nested.set('app/manifest.json', pristine.get('manifest.json'));
  assertError(nested, 'nested_manifest');
  assertError(withManifest(() => '{"name": "x",'), 'manifest_not_json');
  assertError(withManifest(() => '{"name": "a", "name": "b"}'), 'duplicate_manifest_keys');
});

test('required manifest fields are reported when missing', () => {
  for (const key of ['author', 'defaultLocale', 'frameworkVersion', 'location', 'name', 'version', 'private']) {
    const r = assertError(
      withManifest((m) => {
        delete m[key];
      }),
      'missing_manifest_key',
    );
    assert.ok(r.errors.some((e) => e.message.includes(`"${key}"`)), key);
  }
});

test('wrong framework version, types, author URL and locale are reported', () => {
  assertError(withManifest((m) => void (m.frameworkVersion = '1.0')), 'invalid_framework_version');
  assertError(withManifest((m) => void (m.private = 'yes')), 'not_a_boolean');
  assertError(withManifest((m) => void (m.version = 1)), 'not_a_string');
  assertError(withManifest((m) => void (m.author.url = 'not a url')), 'invalid_url');
  assertError(withManifest((m) => void (m.defaultLocale = 'english')), 'invalid_default_locale');
  assertError(withManifest((m) => void (m.defaultLocale = 'fr')), 'missing_translation_file');
  assertError(withManifest((m) => void (m.experiments = { fancy: true })), 'invalid_experiment');
});

test('unknown products and locations, bad location URLs and missing required locations are reported', () => {
  assertError(withManifest((m) => void (m.location.guide = { sidebar: { url: 'assets/iframe.html' } })), 'invalid_host');
  assertError(withManifest((m) => void (m.location.support.ticket_sidebarr = { url: 'assets/iframe.html' })), 'invalid_location');
  assertError(withManifest((m) => void (m.location.support.ticket_sidebar.url = 'http://evil.example.com/app.html')), 'invalid_location_uri');
  assertError(withManifest((m) => void (m.location.support.ticket_sidebar.url = 'assets/missing.html')), 'invalid_location_uri');
  assertError(withManifest((m) => void delete m.location.support.nav_bar.url), 'blank_location_uri');
  assertError(withManifest((m) => void (m.location.support.ticket_sidebar.flexible = 'yes')), 'invalid_location_flexible_type');
  const r = assertError(withManifest((m) => void delete m.location.support.nav_bar), 'missing_location');
  assert.ok(r.errors.some((e) => e.message.includes('nav_bar')));
  // An https URL and localhost are accepted locations.
  const ok = validateFiles(withManifest((m) => void (m.location.support.ticket_sidebar.url = 'https://localhost:4567/')));
  assert.deepEqual(codes(ok), []);
});

test('parameter types, flags, scopes and the app\u2019s own parameters are checked', () => {
  const param = (name) => (m) => m.parameters.find((p) => p.name === name);
  assertError(withManifest((m) => void (param('backend_url')(m).type = 'password')), 'invalid_parameter_type');
  assertError(withManifest((m) => void (param('shared_secret')(m).scopes = ['jwt_secret', 'header'])), 'invalid_scopes');
  assertError(withManifest((m) => void (param('shared_secret')(m).scopes = [])), 'scopes_empty');
  assertError(withManifest((m) => void (param('shared_secret')(m).scopes = 'jwt_secret_key')), 'scopes_not_an_array');
  assertError(withManifest((m) => void (param('backend_url')(m).scopes = ['url'])), 'scopes_require_secure_parameter');
  assertError(withManifest((m) => void (param('shared_secret')(m).secure = false)), 'wrong_parameter_security');
  assertError(withManifest((m) => void (param('admin_key')(m).scopes = ['header', 'body'])), 'wrong_parameter_scopes');
  assertError(withManifest((m) => void (param('admin_key')(m).required = 'no')), 'not_a_boolean');
  assertError(withManifest((m) => void m.parameters.push({ name: 'name', type: 'text' })), 'name_as_parameter_name');
  assertError(withManifest((m) => void m.parameters.push({ name: 'backend_url', type: 'url' })), 'duplicate_parameters');
  assertError(withManifest((m) => void m.parameters.push({ name: 'h', type: 'hidden', required: true })), 'invalid_hidden_parameter');
  assertError(withManifest((m) => void m.parameters.push({ name: 'o', type: 'oauth', secure: true })), 'oauth_parameter_cannot_be_secure');
  assertError(withManifest((m) => void (m.parameters = m.parameters.filter((p) => p.name !== 'shared_secret'))), 'missing_parameter');
  assertError(withManifest((m) => void (m.parameters = { backend_url: {} })), 'parameters_not_an_array');
  // Zendesk's warnings.
  const w = validateFiles(withManifest((m) => void m.parameters.push({ name: 'api_token', type: 'text' })));
  assert.ok(w.warnings.some((x) => x.code === 'insecure_token_parameter'));
});

test('every parameter needs a translated label, and translations must be well-formed', () => {
  const files = withManifest((m) => void m.parameters.push({ name: 'region', type: 'text' }));
  const r = assertError(files, 'missing_parameter_label');
  assert.ok(r.errors.some((e) => e.message.includes('region')));
  const en = JSON.parse(pristine.get('translations/en.json').toString('utf8'));
  const noLabel = new Map(pristine);
  const broken = structuredClone(en);
  delete broken.app.parameters.admin_key.label;
  noLabel.set('translations/en.json', Buffer.from(JSON.stringify(broken)));
  assertError(noLabel, 'translation_missing_label');
  const noName = new Map(pristine);
  const nameless = structuredClone(en);
  delete nameless.app.name;
  noName.set('translations/en.json', Buffer.from(JSON.stringify(nameless)));
  assertError(noName, 'translation_missing_key');
  const badLocale = new Map(pristine);
  badLocale.set('translations/english.json', pristine.get('translations/en.json'));
  assertError(badLocale, 'invalid_translation_locale');
  const notJson = new Map(pristine);
  notJson.set('translations/en.json', Buffer.from('{'));
  assertError(notJson, 'translation_not_json');
});

test('icons must exist with Zendesk\u2019s sizes; the nav-bar location needs its SVG icon', () => {
  const wrongSize = new Map(pristine);
  wrongSize.set('assets/logo.png', encodePng(64, 64, new Uint8Array(64 * 64 * 4)));
  const r = assertError(wrongSize, 'wrong_icon_size');
  assert.match(r.errors.find((e) => e.code === 'wrong_icon_size').message, /64x64, must be 320x320/);
  const notPng = new Map(pristine);
  notPng.set('assets/logo-small.png', Buffer.from('GIF89a not a png at all, not at all'));
  assertError(notPng, 'invalid_icon');
  const noIcon = new Map(pristine);
  noIcon.delete('assets/logo.png');
  assertError(noIcon, 'missing_icon');
  const noNavIcon = new Map(pristine);
  noNavIcon.delete('assets/icon_nav_bar.svg');
  assertError(noNavIcon, 'missing_location_icon');
  const bitmap = new Map(pristine);
  bitmap.set('assets/icon_nav_bar.svg', Buffer.from('<svg viewBox="0 0 18 18"><image href="data:image/png;base64,AAAA"/></svg>'));
  assertError(bitmap, 'bitmap_in_svg');
  const noViewBox = new Map(pristine);
  noViewBox.set('assets/icon_nav_bar.svg', Buffer.from('<svg width="18" height="18"><path d="M0 0h1v1z"/></svg>'));
  assertError(noViewBox, 'svg_without_viewbox');
});

test('referenced files must be in the package, and nothing is loaded from a CDN', () => {
  const noJs = new Map(pristine);
  noJs.delete('assets/main.js');
  const r = assertError(noJs, 'missing_referenced_file');
  assert.match(r.errors[0].message, /main\.js/);
  const cdn = new Map(pristine);
  cdn.set('assets/iframe.html', Buffer.from('<html><script src="https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"></script></html>'));
  assertError(cdn, 'external_asset_reference');
});

test('http:// URLs in code and unsupported files are reported; CSS comments and XML namespaces are not URLs to fetch', () => {
  const http = new Map(pristine);
  http.set('assets/extra.js', Buffer.from('fetch("http://api.example.com/x")'));
  assertError(http, 'insecure_http_url');
  const css = new Map(pristine);
  css.set('assets/extra.css', Buffer.from('/* see http://www.apache.org/licenses/ */ a{background:url("data:image/svg+xml,%3Csvg xmlns=\'http://www.w3.org/2000/svg\'/%3E")}'));
  assert.deepEqual(codes(validateFiles(css)), []);
  const zip = new Map(pristine);
  zip.set('assets/bundle.zip', Buffer.from('PK'));
  assertError(zip, 'unsupported_mime_type');
  const exe = new Map(pristine);
  exe.set('assets/tool.exe', Buffer.from('MZ'));
  assertError(exe, 'unsupported_asset_type');
  const stray = new Map(pristine);
  stray.set('src/main.js', Buffer.from('x'));
  assertError(stray, 'unexpected_file', { strictFileSet: true });
  assertError(pristine, 'symlink_in_package', { symlinks: ['assets/link.js'] });
});

test('secrets are refused: known shapes, given values, and secure placeholders outside their scopes', () => {
  const pem = new Map(pristine);
  pem.set('assets/key.js', Buffer.from('const k = `-----BEGIN RSA PRIVATE KEY-----\nMIIE...`;'));
  assertError(pem, 'secret_in_package');
  const admin = new Map(pristine);
  admin.set('assets/cfg.json', Buffer.from(JSON.stringify({ key: `mlc_admin_${'A'.repeat(43)}` })));
  assertError(admin, 'secret_in_package');
  const jwt = new Map(pristine);
  jwt.set('assets/t.js', Buffer.from('const t="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"'));
  assertError(jwt, 'secret_in_package');
  const value = 'the-real-shared-secret-value-123';
  const leaked = new Map(pristine);
  leaked.set('assets/leak.js', Buffer.from(`const s = "${value}";`));
  const r = assertError(leaked, 'secret_value_in_package', { forbiddenValues: [{ name: 'shared_secret', value }] });
  assert.ok(!JSON.stringify(r).includes(value), 'a finding never repeats the secret');
  const misused = new Map(pristine);
  misused.set('assets/bad.js', Buffer.from('client.request({url: "https://x.example.com/?k={{setting.shared_secret}}"})'));
  assertError(misused, 'secure_setting_outside_scopes');
  const inHtml = new Map(pristine);
  inHtml.set('assets/bad.html', Buffer.from('<p>{{setting.admin_key}}</p>'));
  assertError(inHtml, 'secure_setting_outside_scopes');
  const unknown = new Map(pristine);
  unknown.set('assets/u.js', Buffer.from('const u = "{{setting.no_such_setting}}";'));
  assertError(unknown, 'unknown_setting_placeholder');
});

test('the domain allow list must hold host names', () => {
  assertError(withManifest((m) => void (m.domainWhitelist = [])), 'empty_domain_whitelist');
  assertError(withManifest((m) => void (m.domainWhitelist = ['https://mlc.acme.com/api'])), 'invalid_domain_whitelist');
  assertError(withManifest((m) => void (m.domainWhitelist = 'mlc.acme.com')), 'invalid_domain_whitelist');
  assert.deepEqual(codes(validateFiles(withManifest((m) => void (m.domainWhitelist = ['mlc.acme.com', '*.acme.net'])))), []);
});
