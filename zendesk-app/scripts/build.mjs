#!/usr/bin/env node
// Builds the app's two run-time files from src/ and the npm packages (no CDN at run time):
//   assets/main.js   src/main.js and what it imports, with the ZAF SDK from the npm package
//                    zendesk_app_framework_sdk, bundled by esbuild into one classic script;
//   assets/main.css  Zendesk Garden's CSS components (@zendeskgarden/css-*) followed by src/styles.css.
// Both are build outputs (git-ignored); scripts/package.mjs runs this before zipping.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(APP_DIR, 'package.json'));

// Garden components the app uses, in cascade order (variables and bedrock first).
export const GARDEN_PACKAGES = [
  '@zendeskgarden/css-variables',
  '@zendeskgarden/css-bedrock',
  '@zendeskgarden/css-buttons',
  '@zendeskgarden/css-forms',
  '@zendeskgarden/css-tags',
  '@zendeskgarden/css-callouts',
  '@zendeskgarden/css-tabs',
  '@zendeskgarden/css-tables',
];

function packageVersion(name) {
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
}

export async function build({ quiet = false } = {}) {
  const esbuild = await import('esbuild');
  const sdk = `zendesk_app_framework_sdk ${packageVersion('zendesk_app_framework_sdk')}`;
  const result = await esbuild.build({
    absWorkingDir: APP_DIR,
    entryPoints: ['src/main.js'],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    outfile: 'assets/main.js',
    minify: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: quiet ? 'silent' : 'warning',
    banner: {
      js: `/* ml-connector Zendesk app (built by zendesk-app/scripts/build.mjs). Includes ${sdk} by Zendesk,\n * Apache License 2.0: https://www.apache.org/licenses/LICENSE-2.0 */`,
    },
    plugins: [
      {
        // The SDK falls back to a bundled Promise polyfill when window.Promise is missing; every browser Zendesk
        // supports has Promise, so the polyfill is replaced by the native one instead of being shipped.
        name: 'native-promise',
        setup(b) {
          b.onResolve({ filter: /native-promise-only$/ }, (args) => ({ path: args.path, namespace: 'native-promise' }));
          b.onLoad({ filter: /.*/, namespace: 'native-promise' }, () => ({ contents: 'module.exports = window.Promise;', loader: 'js' }));
        },
      },
    ],
  });
  if (result.errors.length) throw new Error('esbuild failed');

  const parts = GARDEN_PACKAGES.map((name) => {
    const css = readFileSync(require.resolve(`${name}/dist/index.css`), 'utf8');
    return `/* ${name} ${packageVersion(name)} (Zendesk Garden, Apache License 2.0) */\n${css.trim()}\n`;
  });
  parts.push(`/* ml-connector */\n${readFileSync(join(APP_DIR, 'src/styles.css'), 'utf8')}`);
  writeFileSync(join(APP_DIR, 'assets/main.css'), parts.join('\n'));
  if (!quiet) console.log('built assets/main.js and assets/main.css');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  build().catch((err) => {
    console.error(err.message ?? err);
    process.exit(1);
  });
}
