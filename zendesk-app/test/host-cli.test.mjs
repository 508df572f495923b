// The host as a standalone command (what `ml-connector demo` will start): configuration from a JSON file,
// one line on stdout with its URLs, pages for every ticket and the admin panel, a clean stop on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from '../scripts/build.mjs';

test('node host/server.mjs --config serves the tickets and the admin page, and stops on SIGTERM', async () => {
  await build({ quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'mlc-host-cli-'));
  const config = join(dir, 'host.json');
  writeFileSync(
    config,
    JSON.stringify({
      tenant: 'acme',
      backend_url: 'http://127.0.0.1:9',
      settings: { shared_secret: 'cli-test-secret-value', admin_key: 'mlc_admin_cli' },
      tickets: [{ id: 5, subject: 'Invoice <INV-1>', description: 'x', requester: { name: 'R', email: 'r@example.com' }, organization: null }],
    }),
  );
  const server = fileURLToPath(new URL('../host/server.mjs', import.meta.url));
  const child = spawn(process.execPath, [server, '--config', config, '--no-build'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`host exited ${code}`)));
    });
    const url = /zendesk host: (http:\/\/127\.0\.0\.1:\d+)\//.exec(line)?.[1];
    assert.ok(url, line);
    const index = await (await fetch(`${url}/`)).text();
    assert.match(index, /#5 Invoice &lt;INV-1&gt;/, 'ticket subjects are escaped');
    const ticket = await (await fetch(`${url}/tickets/5`)).text();
    assert.match(ticket, /<iframe id="zaf-app"[^>]+assets\/iframe\.html\?origin=/);
    assert.ok(!ticket.includes('cli-test-secret-value') && !ticket.includes('mlc_admin_cli'), 'no secure setting in the page');
    assert.equal((await fetch(`${url}/admin`)).status, 200);
    assert.equal((await fetch(`${url}/tickets/6`)).status, 404);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
