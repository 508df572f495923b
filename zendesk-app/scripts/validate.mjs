#!/usr/bin/env node
// Validates an app package the way Zendesk does on upload, plus ml-connector's own rules (lib/validate.mjs).
//   node scripts/validate.mjs                 the app directory (zendesk-app/, after scripts/build.mjs)
//   node scripts/validate.mjs dist/X.zip      a packaged zip
// Exit status 1 when there is an error; warnings are printed and do not fail.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readZip } from '../lib/zip.mjs';
import { formatFindings, readAppDir, validateFiles } from '../lib/validate.mjs';
import { APP_DIR } from './build.mjs';

/** The files of the app source directory that belong in the package (what package.mjs zips). */
export function appFiles(dir = APP_DIR) {
  const { files, symlinks } = readAppDir(dir, {
    skip: (p) => {
      const top = p.split('/')[0];
      if (!['manifest.json', 'translations', 'assets'].includes(top)) return true;
      return p.split('/').some((seg) => seg.startsWith('.'));
    },
  });
  return { files, symlinks };
}

export function validatePath(path, options = {}) {
  if (path.endsWith('.zip')) {
    const files = new Map(readZip(readFileSync(path)).map((e) => [e.name, e.data]));
    return validateFiles(files, { ...options, strictFileSet: true });
  }
  if (!statSync(path).isDirectory()) throw new Error(`${path} is neither a directory nor a .zip`);
  const { files, symlinks } = appFiles(path);
  return validateFiles(files, { ...options, symlinks });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(join(APP_DIR, 'scripts/validate.mjs'))) {
  const target = process.argv[2] ?? APP_DIR;
  try {
    const result = validatePath(target);
    const text = formatFindings(result);
    if (text) console.log(text);
    console.log(`${target}: ${result.errors.length} error(s), ${result.warnings.length} warning(s)`);
    process.exit(result.errors.length ? 1 : 0);
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
}
