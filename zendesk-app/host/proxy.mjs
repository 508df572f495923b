// Zendesk's side of client.request(): the app proxy. Given the request options an app posted and the app's
// installation (manifest parameters, setting values, domain allow list), it does what the proxy does:
//  - `secure: true` requests may only go to hosts in the manifest's domainWhitelist;
//  - {{setting.NAME}} placeholders are replaced (only in secure requests); a secure setting with `scopes` only in
//    the parts of the request its scopes name (url, header, body, jwt_secret_key, jwt_claim);
//  - a `jwt` option makes the proxy sign an HS256 token (secret_key after substitution; claims + iat + exp) and
//    put it where the request says {{jwt.token}};
//  - the request is sent from the server, never from the browser, so secure values never reach the page.
import { decodeJwt, proxyClaims, signHs256 } from './jwt.mjs';

export class ProxyRefusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const PLACEHOLDER = /\{\{\s*setting\.([A-Za-z0-9_]+)\s*\}\}/g;

/**
 * Resolves a request: returns {method, url, headers, body, timeoutMs, usedSettings, jwt} ready to send, or throws
 * a ProxyRefusal. `installation` = {parameters: manifest parameters, settings: {name: value}, domainWhitelist}.
 */
export function resolveRequest(options, installation, { nowSeconds = Math.floor(Date.now() / 1000) } = {}) {
  if (!options || typeof options.url !== 'string') throw new ProxyRefusal(400, 'request options need a url');
  const secure = options.secure === true;
  const params = new Map((installation.parameters ?? []).map((p) => [p.name, p]));
  const used = new Set();

  const substitute = (text, part) => {
    if (!secure || typeof text !== 'string') return text;
    return text.replace(PLACEHOLDER, (whole, name) => {
      const p = params.get(name);
      if (!p) return whole; // unknown settings stay as written, as in Zendesk
      if (p.secure && Array.isArray(p.scopes) && !p.scopes.includes(part)) {
        throw new ProxyRefusal(422, `secure setting "${name}" may not be used in the ${part} (its scopes: ${p.scopes.join(', ')})`);
      }
      used.add(name);
      const value = installation.settings?.[name];
      return value === undefined || value === null ? '' : String(value);
    });
  };

  let url = substitute(options.url, 'url');
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProxyRefusal(400, `not an absolute URL: ${options.url}`);
  }
  if (secure && !hostAllowed(parsed.hostname, installation.domainWhitelist ?? [])) {
    throw new ProxyRefusal(
      403,
      `secure requests may only go to the manifest's domainWhitelist (${(installation.domainWhitelist ?? []).join(', ') || 'empty'}), not ${parsed.hostname}`,
    );
  }

  const headers = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k] = substitute(String(v), 'header');
  let body = options.data === undefined || options.data === null ? undefined : typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
  body = substitute(body, 'body');

  let jwtPayload = null;
  if (options.jwt) {
    if (!secure) throw new ProxyRefusal(400, 'the jwt option needs secure: true');
    const algorithm = options.jwt.algorithm ?? 'HS256';
    if (algorithm !== 'HS256') throw new ProxyRefusal(400, `this host signs HS256 only, not ${algorithm}`);
    const secret = substitute(String(options.jwt.secret_key ?? ''), 'jwt_secret_key');
    if (!secret) throw new ProxyRefusal(400, 'the jwt option has no secret_key');
    const claims = {};
    for (const [k, v] of Object.entries(options.jwt.claims ?? {})) claims[k] = typeof v === 'string' ? substitute(v, 'jwt_claim') : v;
    jwtPayload = proxyClaims({ ...options.jwt, claims }, nowSeconds);
    const token = signHs256(jwtPayload, secret);
    const put = (text) => (typeof text === 'string' ? text.split('{{jwt.token}}').join(token) : text);
    url = put(url);
    for (const k of Object.keys(headers)) headers[k] = put(headers[k]);
    body = put(body);
  }
  if (options.contentType && body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = options.contentType;
  }
  const method = String(options.type ?? options.method ?? 'GET').toUpperCase();
  const timeoutMs = Math.min(Number(options.timeout) > 0 ? Number(options.timeout) : 60_000, 60_000);
  return { method, url, headers, body, timeoutMs, usedSettings: [...used].sort(), jwt: jwtPayload };
}

function hostAllowed(host, list) {
  return list.some((entry) => {
    if (entry.startsWith('*.')) return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
    return host === entry;
  });
}

/**
 * Sends a resolved request. Returns what the page needs to answer the app like ZAF does: {status, statusText,
 * contentType, body}; status 0 with statusText 'timeout' or 'error' when no HTTP answer came.
 */
export async function send(resolved) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), resolved.timeoutMs);
  try {
    const res = await fetch(resolved.url, {
      method: resolved.method,
      headers: resolved.headers,
      body: ['GET', 'HEAD'].includes(resolved.method) ? undefined : resolved.body,
      signal: controller.signal,
      redirect: 'manual',
    });
    return { status: res.status, statusText: res.statusText, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  } catch (err) {
    return { status: 0, statusText: controller.signal.aborted ? 'timeout' : 'error', contentType: '', body: '', error: String(err?.cause?.code ?? err?.message ?? err) };
  } finally {
    clearTimeout(timer);
  }
}

/** A log line for a forwarded request, without any secret: the token's claims, never the token. */
export function describeForLog(resolved, answer) {
  const auth = Object.entries(resolved.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  let bearerClaims = null;
  if (resolved.jwt && typeof auth === 'string' && auth.startsWith('Bearer ')) {
    try {
      bearerClaims = decodeJwt(auth.slice(7));
    } catch {
      bearerClaims = null;
    }
  }
  return {
    method: resolved.method,
    url: resolved.url,
    status: answer.status,
    usedSettings: resolved.usedSettings,
    authorizationScheme: typeof auth === 'string' ? auth.split(' ')[0] : null,
    jwt: bearerClaims,
  };
}
