// Validation of a Zendesk app package: the rules Zendesk applies when an app is uploaded (`zcli apps:validate`
// posts the zip to /api/v2/apps/validate; the checks are those of Zendesk's `zendesk_apps_support` gem, see
// README.md for sources), plus ml-connector's own stricter rules. Works on an in-memory file map so the same
// code checks a source directory, a built zip, and the broken manifests of the tests.
//
// Result: {errors: [{code, file, message}], warnings: [...]}. Codes are stable; tests and tools rely on them.
// Nothing here ever prints a secret value: findings name the file and the kind of secret only.
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseStrictJson } from './strict-json.mjs';
import { readPngHeader } from './png.mjs';

// --- Zendesk's rules (facts from the validator; see README.md) ---------------------------------------------------
export const PARAMETER_TYPES = ['text', 'checkbox', 'url', 'number', 'multiline', 'hidden', 'oauth'];
export const SECURE_PARAMETER_SCOPES = [
  'header',
  'body',
  'url',
  'jwt_secret_key',
  'jwt_claim',
  'basic_auth_username',
  'basic_auth_password',
];
export const LOCATIONS = {
  support: [
    'top_bar',
    'nav_bar',
    'ticket_sidebar',
    'new_ticket_sidebar',
    'user_sidebar',
    'organization_sidebar',
    'background',
    'modal',
    'ticket_editor',
    'system_top_bar',
  ],
  chat: ['chat_sidebar', 'background'],
  standalone_chat: ['nav_bar', 'system_top_bar'],
  sell: [
    'deal_card',
    'person_card',
    'company_card',
    'lead_card',
    'background',
    'modal',
    'dashboard',
    'note_editor',
    'call_log_editor',
    'email_editor',
    'top_bar',
    'visit_editor',
  ],
};
const LEGACY_PRODUCT_NAMES = { zendesk: 'support', zopim: 'chat', lotus_box: 'standalone_chat' };
const LOCATIONS_WITH_ICONS = ['top_bar', 'nav_bar', 'system_top_bar', 'ticket_editor'];
export const FRAMEWORK_VERSIONS = ['2.0'];
const VALID_LOCALE = /^[a-z]{2,3}(-\w{2,3})?$/;
const ALLOWED_EXPERIMENTS = ['hashParams', 'newCssCompiler'];
const ASSET_EXTENSIONS = [
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'js', 'htm', 'html', 'css', 'map', 'eot', 'woff', 'woff2', 'otf', 'ttf', 'json',
  'xml', 'hbs', 'hdbs',
];
const BLOCKED_EXTENSIONS = [
  'rar', 'zip', 'gz', 'gzip', 'pdf', 'doc', 'docx', 'avi', 'bin', 'bz', 'bz2', 'csh', 'sh', 'jar', 'mp3', 'mpeg', 'odt',
  'pptx', 'ppt', 'xls', 'xlsx', '7z',
];
// Words Zendesk's validator warns about in html/xml/js/json files ("this file may contain a secret").
const ZENDESK_SECRET_KEYWORDS = /password|secret|auth_?key|authKey|auth_?pass|authPass|auth_user|AuthUser|api_key/;
const SECURABLE_PARAMETER_NAME = /token|key|pwd|password/i;

// --- ml-connector's rules -------------------------------------------------------------------------------------------
export const REQUIRED_LOCATIONS = ['ticket_sidebar', 'nav_bar'];
export const EXAMPLE_DOMAIN = 'ml-connector.example.com';
export const ICONS = { 'assets/logo.png': [320, 320], 'assets/logo-small.png': [128, 128] };
// Secret shapes that must never be in a package, whatever the file type.
const SECRET_SHAPES = [
  ['a PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['an ml-connector admin key', /mlc_admin_[A-Za-z0-9_-]{43}/],
  ['a signed JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/],
  ['an AWS access key id', /\bAKIA[0-9A-Z]{16}\b/],
  ['a Slack token', /\bxox[abpors]-[A-Za-z0-9-]{10,}/],
  ['a GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36}\b/],
  ['a Zendesk API token assignment', /token\/?:\s*["']?[A-Za-z0-9]{40}\b/],
];
const EXPECTED_PARAMETERS = {
  backend_url: { type: 'url', secure: false },
  shared_secret: { type: 'text', secure: true, scopes: ['jwt_secret_key'] },
  admin_key: { type: 'text', secure: true, scopes: ['header'] },
};

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const ext = (name) => (name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '');
const isText = (name) => /\.(html?|xml|js|json|css|svg|map|hbs|hdbs)$/i.test(name);
const isZendeskTextFile = (name) => /(html?|xml|js|jso|json)$/.test(name);

/** Reads every file under `dir` (skipping nothing): Map of relative posix path -> Buffer; symlinks are recorded. */
export function readAppDir(dir, { skip = () => false } = {}) {
  const files = new Map();
  const symlinks = [];
  const walk = (rel) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (skip(path)) continue;
      const stat = lstatSync(join(dir, path));
      if (stat.isSymbolicLink()) symlinks.push(path);
      else if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) files.set(path, readFileSync(join(dir, path)));
    }
  };
  walk('');
  return { files, symlinks };
}

/**
 * Validates an app given as a Map of relative path -> Buffer.
 * options.forbiddenValues: [{name, value}] — secret values (e.g. the real shared secret) that must not appear.
 * options.symlinks: paths that are symbolic links (Zendesk refuses them).
 * options.strictFileSet: refuse files other than manifest.json, translations/*.json, assets/** (true for a zip).
 */
export function validateFiles(files, options = {}) {
  const errors = [];
  const warnings = [];
  const error = (code, file, message) => errors.push({ code, file, message });
  const warn = (code, file, message) => warnings.push({ code, file, message });
  const text = (name) => files.get(name)?.toString('utf8');

  for (const link of options.symlinks ?? []) error('symlink_in_package', link, 'symbolic links are refused by Zendesk');

  // manifest.json: present, at the root, JSON without duplicate keys.
  if (!files.has('manifest.json')) {
    const nested = [...files.keys()].find((f) => /^[^/]+\/manifest\.json$/.test(f));
    if (nested) error('nested_manifest', nested, 'manifest.json must be at the root of the package, not in a folder');
    else error('missing_manifest', 'manifest.json', 'the package has no manifest.json');
    return { errors, warnings };
  }
  let manifest;
  try {
    manifest = parseStrictJson(text('manifest.json'));
  } catch (e) {
    const code = /duplicate key/.test(e.message) ? 'duplicate_manifest_keys' : 'manifest_not_json';
    error(code, 'manifest.json', e.message);
    return { errors, warnings };
  }
  if (!isObject(manifest)) {
    error('manifest_not_json', 'manifest.json', 'the manifest must be a JSON object');
    return { errors, warnings };
  }

  checkManifestFields(manifest, files, error, warn);
  const parameters = checkParameters(manifest, error, warn);
  checkLocations(manifest, files, error);
  checkTranslations(manifest, files, parameters, error, warn);
  checkFiles(files, options, error, warn);
  checkIcons(manifest, files, error, warn);
  checkHtmlReferences(files, error);
  checkCode(files, parameters, options, error, warn);
  return { errors, warnings };
}

function checkManifestFields(manifest, files, error, warn) {
  // Zendesk: author and defaultLocale required; frameworkVersion required and servable; location required.
  // ml-connector: name, version and private too (a private app, named and versioned).
  for (const key of ['author', 'defaultLocale', 'frameworkVersion', 'location', 'name', 'version', 'private']) {
    if (manifest[key] === undefined || manifest[key] === null) {
      error('missing_manifest_key', 'manifest.json', `the manifest has no "${key}"`);
    }
  }
  for (const key of ['defaultLocale', 'version', 'frameworkVersion', 'name', 'remoteInstallationURL', 'termsConditionsURL', 'gaID']) {
    if (manifest[key] !== undefined && manifest[key] !== null && typeof manifest[key] !== 'string') {
      error('not_a_string', 'manifest.json', `"${key}" must be a string`);
    }
  }
  for (const key of ['private', 'singleInstall', 'signedUrls', 'requirementsOnly', 'marketingOnly']) {
    if (manifest[key] !== undefined && typeof manifest[key] !== 'boolean') {
      error('not_a_boolean', 'manifest.json', `"${key}" must be true or false`);
    }
  }
  if (manifest.author !== undefined) {
    if (!isObject(manifest.author)) error('not_an_object', 'manifest.json', '"author" must be an object {name, email, url}');
    else {
      for (const key of ['name', 'email', 'url']) {
        if (manifest.author[key] !== undefined && typeof manifest.author[key] !== 'string') {
          error('not_a_string', 'manifest.json', `"author.${key}" must be a string`);
        }
      }
      if (!manifest.author.name) error('missing_manifest_key', 'manifest.json', 'the manifest has no "author.name"');
      if (typeof manifest.author.url === 'string' && !isHttpUrl(manifest.author.url)) {
        error('invalid_url', 'manifest.json', `"author.url" is not a valid URL: ${manifest.author.url}`);
      }
    }
  }
  if (manifest.termsConditionsURL !== undefined && !isHttpUrl(manifest.termsConditionsURL)) {
    error('invalid_url', 'manifest.json', '"termsConditionsURL" is not a valid URL');
  }
  if (manifest.frameworkVersion !== undefined && !FRAMEWORK_VERSIONS.includes(manifest.frameworkVersion)) {
    error(
      'invalid_framework_version',
      'manifest.json',
      `frameworkVersion ${JSON.stringify(manifest.frameworkVersion)} is not served by Zendesk (available: ${FRAMEWORK_VERSIONS.join(', ')})`,
    );
  }
  if (typeof manifest.defaultLocale === 'string') {
    if (!VALID_LOCALE.test(manifest.defaultLocale)) {
      error('invalid_default_locale', 'manifest.json', `"${manifest.defaultLocale}" is not a valid locale`);
    } else if (!files.has(`translations/${manifest.defaultLocale}.json`)) {
      error(
        'missing_translation_file',
        `translations/${manifest.defaultLocale}.json`,
        `the default locale "${manifest.defaultLocale}" has no translations/${manifest.defaultLocale}.json`,
      );
    }
  }
  if (manifest.experiments !== undefined) {
    if (!isObject(manifest.experiments)) error('not_an_object', 'manifest.json', '"experiments" must be an object');
    else {
      for (const [name, on] of Object.entries(manifest.experiments)) {
        if (on && !ALLOWED_EXPERIMENTS.includes(name)) error('invalid_experiment', 'manifest.json', `experiment "${name}" is not allowed`);
      }
    }
  }
  if (manifest.requirementsOnly || manifest.marketingOnly) {
    error('no_locations_expected', 'manifest.json', 'requirements-only and marketing-only apps are not ml-connector');
  }
  // domainWhitelist: Zendesk wants an array of strings; ml-connector needs the backend's host in it, because
  // Zendesk only applies secure settings to requests for those domains.
  const list = manifest.domainWhitelist;
  if (list !== undefined && !(Array.isArray(list) && list.every((d) => typeof d === 'string'))) {
    error('invalid_domain_whitelist', 'manifest.json', '"domainWhitelist" must be an array of strings');
  } else if (!list || list.length === 0) {
    error('empty_domain_whitelist', 'manifest.json', '"domainWhitelist" must list the ml-connector host, or secure requests fail');
  } else {
    for (const d of list) {
      if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(d)) {
        error('invalid_domain_whitelist', 'manifest.json', `"${d}" is not a host name (no scheme, port or path; "*." allowed in front)`);
      }
    }
    if (list.includes(EXAMPLE_DOMAIN)) {
      warn('example_domain', 'manifest.json', `domainWhitelist still holds ${EXAMPLE_DOMAIN}; package with --backend-url to set your host`);
    }
  }
}

function isHttpUrl(value) {
  try {
    const u = new URL(value);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.host !== '';
  } catch {
    return false;
  }
}

function checkParameters(manifest, error, warn) {
  const raw = manifest.parameters;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    error('parameters_not_an_array', 'manifest.json', '"parameters" must be an array');
    return [];
  }
  const params = raw.filter(isObject);
  if (params.length !== raw.length) error('invalid_parameter', 'manifest.json', 'every parameter must be an object');
  const names = params.map((p) => p.name);
  const duplicates = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (duplicates.length) error('duplicate_parameters', 'manifest.json', `parameters defined twice: ${duplicates.join(', ')}`);
  for (const p of params) {
    const where = `parameters[name="${p.name}"]`;
    const type = p.type ?? 'text';
    if (typeof p.name !== 'string' || p.name === '') error('invalid_parameter', 'manifest.json', 'a parameter has no name');
    if (p.name === 'name') error('name_as_parameter_name', 'manifest.json', 'a parameter may not be called "name"');
    if (!PARAMETER_TYPES.includes(type)) {
      error('invalid_parameter_type', 'manifest.json', `${where}.type "${type}" is not one of ${PARAMETER_TYPES.join(', ')}`);
    }
    for (const key of ['required', 'secure']) {
      if (p[key] !== undefined && typeof p[key] !== 'boolean') error('not_a_boolean', 'manifest.json', `${where}.${key} must be true or false`);
    }
    if (type === 'hidden' && p.required) error('invalid_hidden_parameter', 'manifest.json', `${where}: a hidden parameter cannot be required`);
    if (type === 'oauth' && p.secure) error('oauth_parameter_cannot_be_secure', 'manifest.json', `${where}: an oauth parameter cannot be secure`);
    if (p.scopes !== undefined) {
      if (!p.secure) error('scopes_require_secure_parameter', 'manifest.json', `${where}.scopes is only allowed on a secure parameter`);
      if (!Array.isArray(p.scopes)) error('scopes_not_an_array', 'manifest.json', `${where}.scopes must be an array`);
      else if (p.scopes.length === 0) error('scopes_empty', 'manifest.json', `${where}.scopes cannot be empty`);
      else {
        const bad = p.scopes.filter((s) => !SECURE_PARAMETER_SCOPES.includes(s));
        if (bad.length) {
          error('invalid_scopes', 'manifest.json', `${where}.scopes has invalid values: ${bad.join(', ')} (allowed: ${SECURE_PARAMETER_SCOPES.join(', ')})`);
        }
      }
    }
    // Zendesk's warnings.
    if (p.secure && !(Array.isArray(p.scopes) && p.scopes.length)) {
      warn('secure_parameter_without_scopes', 'manifest.json', `${where} is secure but has no scopes: it can be sent anywhere in a request`);
    }
    if (SECURABLE_PARAMETER_NAME.test(p.name ?? '') && type === 'text' && !p.secure) {
      warn('insecure_token_parameter', 'manifest.json', `${where} looks like a secret but is not secure`);
    }
    if ('default' in p && (p.secure || type === 'hidden')) {
      warn('default_on_secure_or_hidden_parameter', 'manifest.json', `${where} has a default although it is secure or hidden`);
    }
  }
  if (params.filter((p) => p.type === 'oauth').length > 1) error('too_many_oauth_parameters', 'manifest.json', 'at most one oauth parameter');

  // ml-connector: the three parameters the app uses, with the right types and scopes.
  for (const [name, want] of Object.entries(EXPECTED_PARAMETERS)) {
    const p = params.find((q) => q.name === name);
    if (!p) {
      error('missing_parameter', 'manifest.json', `the app needs a "${name}" parameter`);
      continue;
    }
    if ((p.type ?? 'text') !== want.type) error('wrong_parameter_type', 'manifest.json', `"${name}" must be of type ${want.type}`);
    if (Boolean(p.secure) !== want.secure) {
      error('wrong_parameter_security', 'manifest.json', `"${name}" must ${want.secure ? '' : 'not '}be secure`);
    }
    if (want.scopes && JSON.stringify(p.scopes) !== JSON.stringify(want.scopes)) {
      error('wrong_parameter_scopes', 'manifest.json', `"${name}" must have scopes ${JSON.stringify(want.scopes)}`);
    }
  }
  return params;
}

function checkLocations(manifest, files, error) {
  const location = manifest.location;
  if (location === undefined) return;
  if (!isObject(location) || Object.keys(location).length === 0) {
    error('missing_manifest_key', 'manifest.json', '"location" must name at least one product and location');
    return;
  }
  const seen = [];
  for (const [hostKey, locations] of Object.entries(location)) {
    const product = LEGACY_PRODUCT_NAMES[hostKey] ?? hostKey;
    if (!LOCATIONS[product]) {
      error('invalid_host', 'manifest.json', `"${hostKey}" is not a Zendesk product (${Object.keys(LOCATIONS).join(', ')})`);
      continue;
    }
    if (!isObject(locations)) {
      error('invalid_location', 'manifest.json', `location.${hostKey} must be an object of locations`);
      continue;
    }
    for (const [name, opts] of Object.entries(locations)) {
      if (!LOCATIONS[product].includes(name)) {
        error('invalid_location', 'manifest.json', `"${name}" is not a ${product} location (${LOCATIONS[product].join(', ')})`);
        continue;
      }
      seen.push(product === 'support' ? name : `${product}.${name}`);
      const url = typeof opts === 'string' ? opts : isObject(opts) ? opts.url : undefined;
      if (isObject(opts) && opts.flexible !== undefined && typeof opts.flexible !== 'boolean') {
        error('invalid_location_flexible_type', 'manifest.json', `location ${name}: "flexible" must be true or false`);
      }
      if (typeof url !== 'string' || url === '') {
        // A framework v2 app is iframe-only: every location loads a URL.
        error('blank_location_uri', 'manifest.json', `location ${name} has no "url"`);
        continue;
      }
      if (url.includes('{{setting.')) continue;
      let ok;
      if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
        try {
          const u = new URL(url);
          ok = u.protocol === 'https:' || u.hostname === 'localhost';
        } catch {
          ok = false;
        }
      } else {
        const path = url.split(/[?#]/)[0];
        ok = path.startsWith('assets/') && files.has(path);
      }
      if (!ok) {
        error('invalid_location_uri', 'manifest.json', `location ${name} url "${url}" is neither https, localhost, nor a file under assets/ in the package`);
      }
    }
  }
  for (const name of REQUIRED_LOCATIONS) {
    if (!seen.includes(name)) error('missing_location', 'manifest.json', `the app needs the support location "${name}"`);
  }
}

function checkTranslations(manifest, files, parameters, error, warn) {
  let defaultJson;
  for (const [name, buf] of files) {
    const m = /^translations\/(.*)\.json$/.exec(name);
    if (!m) continue;
    if (!VALID_LOCALE.test(m[1])) error('invalid_translation_locale', name, `"${m[1]}" is not a valid locale`);
    let json;
    try {
      json = parseStrictJson(buf.toString('utf8'));
    } catch (e) {
      error('translation_not_json', name, e.message);
      continue;
    }
    if (!isObject(json)) {
      error('translation_not_json_object', name, 'a translation file must be a JSON object');
      continue;
    }
    const params = json.app?.parameters;
    if (isObject(params)) {
      for (const [p, entry] of Object.entries(params)) {
        if (!isObject(entry) || typeof entry.label !== 'string') {
          error('translation_missing_label', name, `app.parameters.${p} needs a "label"`);
        }
      }
    }
    if (m[1] === manifest.defaultLocale) defaultJson = json;
  }
  if (!defaultJson) return;
  const app = isObject(defaultJson.app) ? defaultJson.app : {};
  const required = manifest.private === false ? ['name', 'short_description', 'long_description', 'installation_instructions'] : ['name'];
  const keys = Object.keys(app).map((k) => (k === 'description' ? 'short_description' : k));
  const missing = required.filter((k) => !keys.includes(k));
  const file = `translations/${manifest.defaultLocale}.json`;
  if (missing.length) error('translation_missing_key', file, `app.${missing.join(', app.')} missing`);
  // ml-connector: a label for every manifest parameter, and none for parameters that do not exist.
  const labels = isObject(app.parameters) ? app.parameters : {};
  for (const p of parameters) {
    if (typeof p.name === 'string' && !(isObject(labels[p.name]) && typeof labels[p.name].label === 'string' && labels[p.name].label.trim())) {
      error('missing_parameter_label', file, `parameter "${p.name}" has no app.parameters.${p.name}.label`);
    }
  }
  for (const name of Object.keys(labels)) {
    if (!parameters.some((p) => p.name === name)) warn('orphan_parameter_label', file, `app.parameters.${name} labels no parameter`);
  }
}

function checkFiles(files, options, error, warn) {
  for (const name of files.keys()) {
    const top = name.split('/')[0];
    if (options.strictFileSet && !(name === 'manifest.json' || name === 'requirements.json' || top === 'translations' || top === 'assets')) {
      error('unexpected_file', name, 'only manifest.json, translations/ and assets/ belong in the package');
    }
    if (BLOCKED_EXTENSIONS.includes(ext(name))) error('unsupported_mime_type', name, `.${ext(name)} files are refused by Zendesk`);
    else if (top === 'assets' && !ASSET_EXTENSIONS.includes(ext(name))) {
      error('unsupported_asset_type', name, `assets of type .${ext(name) || '(none)'} are not accepted (${ASSET_EXTENSIONS.join(', ')})`);
    }
    if (top === 'translations' && ext(name) !== 'json') warn('unexpected_translation_file', name, 'translations/ holds .json files only');
  }
}

function checkIcons(manifest, files, error, warn) {
  for (const [name, [w, h]] of Object.entries(ICONS)) {
    if (!files.has(name)) {
      error('missing_icon', name, `${name} (${w}x${h} PNG) is required`);
      continue;
    }
    try {
      const head = readPngHeader(files.get(name));
      if (head.width !== w || head.height !== h) {
        error('wrong_icon_size', name, `${name} is ${head.width}x${head.height}, must be ${w}x${h}`);
      }
      if (name.endsWith('logo-small.png') && !head.hasAlpha) {
        warn('icon_without_transparency', name, 'the small icon should be PNG-24 with transparency');
      }
    } catch (e) {
      error('invalid_icon', name, `${name}: ${e.message}`);
    }
  }
  const support = isObject(manifest.location) ? manifest.location.support ?? manifest.location.zendesk : undefined;
  for (const loc of LOCATIONS_WITH_ICONS) {
    if (!isObject(support) || support[loc] === undefined) continue;
    const svg = `assets/icon_${loc}.svg`;
    if (files.has(svg)) continue;
    if (!files.has(`assets/icon_${loc}_inactive.png`)) {
      error('missing_location_icon', svg, `the ${loc} location needs ${svg} (or icon_${loc}_inactive.png)`);
    }
  }
  for (const [name, buf] of files) {
    if (!/^assets\/.*\.svg$/i.test(name)) continue;
    const s = buf.toString('utf8');
    if (!/<svg[\s>]/.test(s)) error('invalid_svg', name, 'not an SVG document');
    else if (!/<svg[^>]*\sviewBox=/.test(s) && !/<symbol[^>]*id="default"[^>]*viewBox=/.test(s)) {
      error('svg_without_viewbox', name, 'the <svg> (or <symbol id="default">) needs a viewBox');
    }
    if (/<image[\s>/]/i.test(s)) error('bitmap_in_svg', name, 'an embedded bitmap: Zendesk replaces the icon with a placeholder');
    if (/<script[\s>]|<foreignObject|\son[a-z]+\s*=|href\s*=\s*["'](?!#)/i.test(s)) {
      error('unsafe_svg', name, 'scripts, event handlers, foreign objects and external references are stripped by Zendesk');
    }
    if (/^\s*<\?xml/.test(s)) warn('svg_rewritten', name, 'Zendesk strips the XML declaration and rewrites the file');
  }
}

function checkHtmlReferences(files, error) {
  for (const [name, buf] of files) {
    if (!/\.html?$/i.test(name)) continue;
    const html = buf.toString('utf8');
    const dir = posix.dirname(name);
    for (const m of html.matchAll(/<(script|link|img|iframe|source)\b[^>]*?\s(src|href)\s*=\s*["']([^"']+)["']/gi)) {
      const ref = m[3];
      if (/^(https?:)?\/\//i.test(ref)) {
        error('external_asset_reference', name, `${ref}: everything the app loads is bundled; no CDN at run time`);
        continue;
      }
      if (/^(data|blob|about):/i.test(ref) || ref.startsWith('#')) continue;
      const target = posix.normalize(posix.join(dir, ref.split(/[?#]/)[0]));
      if (!files.has(target)) error('missing_referenced_file', name, `references ${ref}, which is not in the package`);
    }
  }
}

function checkCode(files, parameters, options, error, warn) {
  const secureParams = new Map(parameters.filter((p) => p.secure).map((p) => [p.name, p.scopes ?? []]));
  const knownParams = new Set(parameters.map((p) => p.name));
  const keywordHits = [];
  for (const [name, buf] of files) {
    // Secret values given by the caller (the real shared secret, admin key...): never in any file, text or not.
    for (const { name: what, value } of options.forbiddenValues ?? []) {
      if (value && value.length >= 8 && buf.includes(Buffer.from(value, 'utf8'))) {
        error('secret_value_in_package', name, `contains the value of ${what}`);
      }
    }
    if (!isText(name)) continue;
    const s = buf.toString('utf8');
    for (const [what, re] of SECRET_SHAPES) {
      if (re.test(s)) error('secret_in_package', name, `contains what looks like ${what}`);
    }
    if (isZendeskTextFile(name)) {
      const k = ZENDESK_SECRET_KEYWORDS.exec(s);
      if (k) keywordHits.push(`${name} ('${k[0]}')`);
    }
    // http:// URLs: Zendesk warns about them in js and html; ml-connector refuses them in code. XML namespace
    // names (http://www.w3.org/...) are identifiers, never fetched, and CSS comments hold licence notices.
    if (/\.(m?js|html?|css)$/i.test(name)) {
      const code = /\.css$/i.test(name) ? s.replace(/\/\*[\s\S]*?\*\//g, '') : s;
      const urls = [...code.matchAll(/http:\/\/[^\s"'`)<>]*/gi)].map((m) => m[0]).filter((u) => !u.startsWith('http://www.w3.org/'));
      if (urls.length) error('insecure_http_url', name, `http:// URL(s) in code: ${[...new Set(urls)].slice(0, 5).join(', ')}`);
    }
    // {{setting.NAME}} placeholders: only for parameters that exist; a secure one only where its scopes allow.
    for (const m of s.matchAll(/\{\{\s*setting\.([A-Za-z0-9_]+)\s*\}\}/g)) {
      const param = m[1];
      if (!knownParams.has(param)) {
        error('unknown_setting_placeholder', name, `{{setting.${param}}} names no manifest parameter`);
        continue;
      }
      if (!secureParams.has(param)) continue;
      if (/\.html?$/i.test(name)) {
        error('secure_setting_outside_scopes', name, `{{setting.${param}}} in HTML: secure settings only work in requests`);
        continue;
      }
      const scopes = secureParams.get(param);
      const before = s.slice(Math.max(0, m.index - 160), m.index);
      const asJwtKey = /secret_key\s*:\s*["'`]$/.test(before);
      const asHeader = /headers\s*:\s*\{[^{}]*["'`]?[A-Za-z-]+["'`]?\s*:\s*["'`](Bearer |Basic |Token )?$/.test(before);
      const ok = (asJwtKey && scopes.includes('jwt_secret_key')) || (asHeader && scopes.includes('header'));
      if (!ok) {
        error(
          'secure_setting_outside_scopes',
          name,
          `{{setting.${param}}} is used outside its scopes (${scopes.join(', ') || 'none'}): ` +
            (scopes.includes('jwt_secret_key') ? 'only as the jwt secret_key' : 'only as a request header value'),
        );
      }
    }
  }
  if (keywordHits.length) {
    warn('zendesk_secret_keyword', null, `Zendesk will warn that these files may contain secrets: ${keywordHits.join(', ')}`);
  }
}

/** Formats a result for people: one line per finding. */
export function formatFindings({ errors, warnings }) {
  const line = (kind, f) => `${kind} ${f.code}${f.file ? ` [${f.file}]` : ''}: ${f.message}`;
  return [...errors.map((f) => line('error', f)), ...warnings.map((f) => line('warning', f))].join('\n');
}
