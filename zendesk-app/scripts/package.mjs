#!/usr/bin/env node
// Builds the installable zip of the app, what `zcli apps:package` would upload: manifest.json, translations/
// and assets/ at the root of the archive, nothing else. Then validates the zip itself (lib/validate.mjs) and
// refuses to leave a package that Zendesk would reject.
//
//   node zendesk-app/scripts/package.mjs --backend-url https://mlc.acme.com [--out DIR] [--no-build]
//
// --backend-url (repeatable; or --domain HOST) sets the manifest's domainWhitelist: Zendesk applies secure
// settings (the JWT secret, the admin key) only to requests for those hosts, so the package must name the
// ml-connector server it talks to. Without it the committed example domain stays, with a warning.
// Environment: MLC_APP_FORBIDDEN_VALUES_FILE, a JSON file {"name": "secret value", ...} of values that must not
// appear anywhere in the package (the tests pass their shared secret and admin key this way).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeZip } from '../lib/zip.mjs';
import { formatFindings, validateFiles } from '../lib/validate.mjs';
import { APP_DIR, build } from './build.mjs';
import { appFiles } from './validate.mjs';

function hostOf(value) {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const u = new URL(value);
    if (u.protocol !== 'https:') throw new Error(`${value}: Zendesk reaches the server over HTTPS only`);
    return u.hostname;
  }
  return value;
}

function forbiddenValues() {
  const file = process.env.MLC_APP_FORBIDDEN_VALUES_FILE;
  if (!file) return [];
  return Object.entries(JSON.parse(readFileSync(file, 'utf8'))).map(([name, value]) => ({ name, value }));
}

export async function packageApp({ domains = [], outDir = join(APP_DIR, 'dist'), doBuild = true, forbidden = forbiddenValues(), log = console.log } = {}) {
  if (doBuild) await build({ quiet: true });
  const { files, symlinks } = appFiles(APP_DIR);
  const manifest = JSON.parse(files.get('manifest.json').toString('utf8'));
  if (domains.length) {
    manifest.domainWhitelist = [...new Set(domains.map(hostOf))];
    files.set('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  }
  const pre = validateFiles(files, { symlinks, forbiddenValues: forbidden, strictFileSet: true });
  if (pre.errors.length) {
    const err = new Error(`the app does not validate:\n${formatFindings(pre)}`);
    err.findings = pre;
    throw err;
  }
  const zip = writeZip([...files].map(([name, data]) => ({ name, data })));
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `ml-connector-zendesk-app-${manifest.version}.zip`);
  writeFileSync(out, zip);
  // Validate what was written, not only what went in.
  const { readZip } = await import('../lib/zip.mjs');
  const post = validateFiles(new Map(readZip(readFileSync(out)).map((e) => [e.name, e.data])), { forbiddenValues: forbidden, strictFileSet: true });
  if (post.errors.length) throw new Error(`the written zip does not validate:\n${formatFindings(post)}`);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  if (post.warnings.length) log(formatFindings({ errors: [], warnings: post.warnings }));
  log(`${out}: ${files.size} files, ${zip.length} bytes, sha256 ${sha256}, domainWhitelist ${manifest.domainWhitelist.join(', ')}`);
  return { path: out, sha256, bytes: zip.length, files: [...files.keys()].sort(), warnings: post.warnings };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(join(APP_DIR, 'scripts/package.mjs'))) {
  const { values } = parseArgs({
    options: {
      'backend-url': { type: 'string', multiple: true, default: [] },
      domain: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  packageApp({
    domains: [...values['backend-url'], ...values.domain],
    outDir: values.out ? resolve(values.out) : undefined,
    doBuild: !values['no-build'],
  }).catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
