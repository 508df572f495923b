// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (scripts/lib/chromium.sh installs it),
// driven by playwright-core from npm. Never Playwright's own browser download.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

/**
 * Launches Chromium with the flags that keep it off the network; returns {browser, close()}. Playwright gives
 * every launch a fresh, empty profile directory of its own (it refuses a --user-data-dir argument).
 */
export async function launch() {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('Chromium not found: run scripts/test-zendesk-app (it installs Debian chromium) or set CHROMIUM_PATH');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
