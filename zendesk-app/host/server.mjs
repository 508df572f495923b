#!/usr/bin/env node
// A stand-in for Zendesk Support around the app, for browser tests and demos: two origins on loopback, like
// Zendesk (agent UI) and its app asset host (the app runs cross-origin in an iframe), a host page that plays
// Zendesk's side of the ZAF SDK protocol (page.js) and the app proxy (proxy.mjs) that signs the JWT and applies
// the secure settings server-side, so secrets never reach the browser.
//
//   node zendesk-app/host/server.mjs --config host.json [--no-build]
//
// host.json (see README.md): {"tenant": "acme", "backend_url": "http://127.0.0.1:8080",
//   "settings": {"shared_secret": "...", "admin_key": "..."}, "tickets": [{"id": 101, "subject": "...",
//   "description": "...", "requester": {"name": "...", "email": "..."}, "organization": {"id": 1, "name": "...",
//   "externalId": "S-00042"}}], "listen": "127.0.0.1", "host_port": 0, "app_port": 0,
//   "domain_whitelist": ["127.0.0.1"], "current_user": {...}}
// Pages: / (index), /tickets/{id} (agent view with the ticket sidebar), /admin (the nav-bar panel).
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProxyRefusal, describeForLog, resolveRequest, send } from './proxy.mjs';

const HOST_DIR = fileURLToPath(new URL('.', import.meta.url));
const APP_DIR = resolve(HOST_DIR, '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const jsonForScript = (v) => JSON.stringify(v).replace(/</g, '\\u003c');

function listenOn(server, host, port) {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res(server.address().port));
  });
}

/**
 * Starts the host. Returns {url, appUrl, requests(), close()}. `requests()` lists what the proxy forwarded
 * (method, url, status, settings used, the token's claims — never a secret value).
 */
export async function startHost(config) {
  const appDir = resolve(config.app_dir ?? APP_DIR);
  const manifest = JSON.parse(readFileSync(join(appDir, 'manifest.json'), 'utf8'));
  if (!existsSync(join(appDir, 'assets/main.js'))) {
    throw new Error(`${appDir}/assets/main.js is missing: build the app first (node zendesk-app/scripts/build.mjs)`);
  }
  const parameters = manifest.parameters ?? [];
  const settings = { backend_url: config.backend_url, ...(config.settings ?? {}) };
  const installation = {
    parameters,
    settings,
    domainWhitelist: config.domain_whitelist ?? manifest.domainWhitelist ?? [],
  };
  const publicSettings = Object.fromEntries(parameters.filter((p) => !p.secure && settings[p.name] !== undefined).map((p) => [p.name, settings[p.name]]));
  const tickets = config.tickets ?? [];
  const currentUser = {
    id: 1001,
    name: 'Alex Agent',
    email: 'alex.agent@example.com',
    role: 'admin',
    locale: 'en-US',
    timeZone: { ianaName: 'UTC' },
    ...(config.current_user ?? {}),
  };
  const listen = config.listen ?? '127.0.0.1';
  const forwarded = [];
  const log = config.log ?? (() => {});

  const appServer = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(appDir, path));
    const inAssets = file.startsWith(join(appDir, 'assets') + sep);
    if (req.method !== 'GET' || !inAssets || !existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(readFileSync(file));
  });
  const appPort = await listenOn(appServer, listen, config.app_port ?? 0);
  const appOrigin = `http://${listen}:${appPort}`;

  let hostOrigin;
  const page = (title, location, body, data) => {
    const guid = randomUUID();
    const hostConfig = {
      appOrigin,
      location,
      data: { ...data, currentUser, currentAccount: { subdomain: config.tenant, planName: 'Enterprise' } },
      context: { product: 'support', location, instanceGuid: guid, account: { subdomain: config.tenant }, ...(data.ticket ? { ticketId: data.ticket.id } : {}) },
      metadata: { appId: 1, installationId: 1, name: manifest.name, version: manifest.version, settings: { title: manifest.name, ...publicSettings } },
    };
    const src = `${appOrigin}/assets/iframe.html?origin=${encodeURIComponent(hostOrigin)}&app_guid=${guid}`;
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/host.css"></head><body class="host host--${location}">
<header class="host__bar"><a href="/">Zendesk (simulated)</a><span>${escapeHtml(config.tenant)}.zendesk.com</span><a href="/admin">ml-connector admin</a></header>
${body(src)}
<script type="application/json" id="zaf-host-config">${jsonForScript(hostConfig)}</script>
<script src="/host.js"></script></body></html>`;
  };

  const ticketPage = (t) =>
    page(`Ticket #${t.id}`, 'ticket_sidebar', (src) => `<main class="host__workspace">
<section class="host__ticket" aria-label="Ticket">
<h1>#${escapeHtml(t.id)} ${escapeHtml(t.subject ?? '')}</h1>
<p class="host__meta">Requester: ${escapeHtml(t.requester?.name ?? '')} &lt;${escapeHtml(t.requester?.email ?? '')}&gt;${t.organization ? ` · Organization: ${escapeHtml(t.organization.name)}` : ''}</p>
<div class="host__description">${escapeHtml(t.description ?? '')}</div>
<nav class="host__tickets" aria-label="Other tickets">${tickets.map((o) => `<a href="/tickets/${encodeURIComponent(o.id)}">#${escapeHtml(o.id)}</a>`).join(' ')}</nav>
</section>
<aside class="host__apps" aria-label="Apps"><div class="host__app-title">ml-connector</div>
<iframe id="zaf-app" title="ml-connector" src="${escapeHtml(src)}" style="width:100%;height:80px;border:0"></iframe></aside>
</main>`, { ticket: ticketData(t) });

  const adminPage = () =>
    page('ml-connector admin', 'nav_bar', (src) => `<main class="host__navbar"><iframe id="zaf-app" title="ml-connector admin" src="${escapeHtml(src)}" style="width:100%;border:0"></iframe></main>`, {});

  const indexPage = () => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Zendesk (simulated)</title><link rel="stylesheet" href="/host.css"></head>
<body class="host"><header class="host__bar"><a href="/">Zendesk (simulated)</a><span>${escapeHtml(config.tenant)}.zendesk.com</span><a href="/admin">ml-connector admin</a></header>
<main class="host__index"><h1>Tickets</h1><ul>${tickets.map((t) => `<li><a href="/tickets/${encodeURIComponent(t.id)}">#${escapeHtml(t.id)} ${escapeHtml(t.subject ?? '')}</a></li>`).join('')}</ul>
<p>The ml-connector app talks to ${escapeHtml(config.backend_url ?? '(no backend_url)')} for tenant ${escapeHtml(config.tenant)}.</p></main></body></html>`;

  async function proxy(req, res) {
    let payload;
    try {
      payload = JSON.parse(await readBody(req));
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 0, statusText: 'bad host request', body: '', contentType: '' }));
      return;
    }
    let answer;
    try {
      const resolved = resolveRequest(payload.options, installation);
      answer = await send(resolved);
      const entry = { at: new Date().toISOString(), location: payload.location, ...describeForLog(resolved, answer) };
      forwarded.push(entry);
      log(`proxy ${entry.method} ${entry.url} -> ${entry.status}`);
    } catch (err) {
      if (!(err instanceof ProxyRefusal)) throw err;
      // What the app sees when Zendesk's proxy refuses a request itself.
      answer = { status: err.status, statusText: 'Refused by the app proxy', contentType: 'application/json', body: JSON.stringify({ error: { code: 'zaf_proxy_refused', message: err.message } }) };
      forwarded.push({ at: new Date().toISOString(), location: payload.location, refused: err.message, url: payload.options?.url, status: err.status });
      log(`proxy refused: ${err.message}`);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  }

  const hostServer = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send200 = (type, body) => res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
    const route = url.pathname;
    Promise.resolve()
      .then(async () => {
        if (req.method === 'POST' && route === '/__zaf/request') return proxy(req, res);
        if (req.method !== 'GET') return res.writeHead(405).end();
        if (route === '/') return send200(TYPES['.html'], indexPage());
        if (route === '/admin') return send200(TYPES['.html'], adminPage());
        if (route === '/host.js') return send200(TYPES['.js'], readFileSync(join(HOST_DIR, 'page.js')));
        if (route === '/host.css') return send200(TYPES['.css'], readFileSync(join(HOST_DIR, 'page.css')));
        const m = /^\/tickets\/([^/]+)$/.exec(route);
        if (m) {
          const t = tickets.find((x) => String(x.id) === decodeURIComponent(m[1]));
          if (t) return send200(TYPES['.html'], ticketPage(t));
        }
        return res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      })
      .catch((err) => {
        log(`host error: ${err.stack ?? err}`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('host error');
      });
  });
  const hostPort = await listenOn(hostServer, listen, config.host_port ?? 0);
  hostOrigin = `http://${listen}:${hostPort}`;

  return {
    url: hostOrigin,
    appUrl: appOrigin,
    requests: () => forwarded.slice(),
    close: () => Promise.all([new Promise((r) => hostServer.close(r)), new Promise((r) => appServer.close(r))]),
  };
}

function ticketData(t) {
  return {
    id: t.id,
    subject: t.subject ?? '',
    description: t.description ?? '',
    status: t.status ?? 'open',
    tags: t.tags ?? [],
    requester: { id: t.requester?.id ?? 5001, name: t.requester?.name ?? '', email: t.requester?.email ?? '' },
    organization: t.organization ? { id: t.organization.id, name: t.organization.name, externalId: t.organization.externalId ?? null, tags: [], domains: [] } : null,
  };
}

function readBody(req) {
  return new Promise((res, rej) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 32 * 1024 * 1024) rej(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { config: { type: 'string' }, 'no-build': { type: 'boolean', default: false } } });
  if (!values.config) {
    console.error('usage: node zendesk-app/host/server.mjs --config host.json [--no-build]');
    process.exit(2);
  }
  const config = JSON.parse(readFileSync(values.config, 'utf8'));
  const run = async () => {
    if (!values['no-build']) await (await import('../scripts/build.mjs')).build({ quiet: true });
    const host = await startHost({ ...config, log: (line) => console.log(line) });
    console.log(`zendesk host: ${host.url}/ (tickets: ${(config.tickets ?? []).map((t) => `/tickets/${t.id}`).join(', ')}; admin: /admin); app assets: ${host.appUrl}`);
    const stop = () => host.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  };
  run().catch((err) => {
    console.error(err.message ?? err);
    process.exit(1);
  });
}
