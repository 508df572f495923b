// Calls to ml-connector, always through the ZAF client's request() and so through Zendesk's proxy:
//  - the agent API (/api/v1/{tenant}/...) with a JWT the proxy signs (HS256, the secure setting shared_secret,
//    which only ever appears here as the placeholder {{setting.shared_secret}});
//  - the admin API (/admin/v1/{tenant}/...) with the secure setting admin_key, sent by the proxy as a header.
// docs/api.md is the contract.

/** Lifetime of the request tokens, in seconds: a fresh token is signed for every request. */
export const JWT_EXPIRY_SECONDS = 300;
/** How long the app waits for one answer before saying so. */
export const REQUEST_TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  constructor({ status, code, message, requestId }) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when no HTTP answer came back
    this.code = code; // the error body's code, or a local one (network, timeout, not_json)
    this.requestId = requestId;
  }
}

function url(base, prefix, tenant, path, query) {
  const root = String(base).replace(/\/+$/, '');
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '' && v !== false) qs.set(k, String(v));
  }
  const q = qs.toString();
  return `${root}/${prefix}/${encodeURIComponent(tenant)}/${path}${q ? `?${q}` : ''}`;
}

/** The client.request options of an agent API call. */
export function agentRequestOptions({ baseUrl, tenant, path, method = 'GET', query, body }) {
  return {
    url: url(baseUrl, 'api/v1', tenant, path, query),
    type: method,
    dataType: 'json',
    contentType: body === undefined ? undefined : 'application/json',
    data: body === undefined ? undefined : JSON.stringify(body),
    timeout: REQUEST_TIMEOUT_MS,
    cors: false,
    secure: true,
    headers: { Authorization: 'Bearer {{jwt.token}}' },
    jwt: {
      algorithm: 'HS256',
      secret_key: '{{setting.shared_secret}}',
      expiry: JWT_EXPIRY_SECONDS,
    },
  };
}

/** The client.request options of an admin API call. */
export function adminRequestOptions({ baseUrl, tenant, path, method = 'GET', query, body }) {
  return {
    url: url(baseUrl, 'admin/v1', tenant, path, query),
    type: method,
    dataType: 'json',
    contentType: body === undefined ? undefined : 'application/json',
    data: body === undefined ? undefined : JSON.stringify(body),
    timeout: REQUEST_TIMEOUT_MS,
    cors: false,
    secure: true,
    headers: { Authorization: 'Bearer {{setting.admin_key}}' },
  };
}

/** Turns what client.request rejects with (a jqXHR-like object) into an ApiError. */
export function toApiError(rejection) {
  if (rejection instanceof ApiError) return rejection;
  const status = Number(rejection?.status) || 0;
  let body = rejection?.responseJSON;
  if (body === undefined && typeof rejection?.responseText === 'string' && rejection.responseText) {
    try {
      body = JSON.parse(rejection.responseText);
    } catch {
      body = undefined;
    }
  }
  const e = body?.error;
  if (e && typeof e.code === 'string') {
    return new ApiError({ status, code: e.code, message: e.message ?? e.code, requestId: e.request_id });
  }
  if (status === 0) {
    const timedOut = rejection?.statusText === 'timeout' || rejection?.textStatus === 'timeout';
    return new ApiError({
      status,
      code: timedOut ? 'timeout' : 'network',
      message: timedOut ? 'no answer in time' : 'no answer from the server',
    });
  }
  return new ApiError({ status, code: `http_${status}`, message: rejection?.statusText || `HTTP ${status}` });
}

/** A small API client bound to the ZAF client, the backend URL and the tenant. */
export function createApi(client, { baseUrl, tenant }) {
  const send = async (options) => {
    try {
      const answer = await client.request(options);
      if (typeof answer === 'string') {
        try {
          return JSON.parse(answer);
        } catch {
          throw new ApiError({ status: 200, code: 'not_json', message: 'the server did not answer with JSON' });
        }
      }
      return answer;
    } catch (rejection) {
      throw toApiError(rejection);
    }
  };
  const agent = (path, opts = {}) => send(agentRequestOptions({ baseUrl, tenant, path, ...opts }));
  const admin = (path, opts = {}) => send(adminRequestOptions({ baseUrl, tenant, path, ...opts }));
  const seg = encodeURIComponent;
  return {
    baseUrl,
    tenant,
    // Agent API.
    ticketContext: (ticket, { refresh } = {}) =>
      agent(`tickets/${seg(ticket.id)}/context`, {
        query: {
          subject: ticket.subject,
          description: ticket.description,
          organization_external_id: ticket.organizationExternalId,
          requester_email: ticket.requesterEmail,
          refresh,
        },
      }),
    invoice: (number, { refresh } = {}) => agent(`invoices/${seg(number)}`, { query: { refresh } }),
    supplier: (id, { refresh } = {}) => agent(`suppliers/${seg(id)}`, { query: { refresh } }),
    search: (q, limit = 10) => agent('search', { query: { q, limit } }),
    attach: (ticketId, invoiceNumber) =>
      agent(`tickets/${seg(ticketId)}/attach`, { method: 'POST', body: { invoice: invoiceNumber } }),
    // Admin API.
    status: () => admin('status'),
    syncRuns: (limit = 50) => admin('sync/runs', { query: { limit } }),
    runSync: (full = false) => admin('sync/run', { method: 'POST', body: { full } }),
    deadLetters: () => admin('dead-letters'),
    requeue: (id) => admin(`dead-letters/${seg(id)}/requeue`, { method: 'POST', body: {} }),
    mapping: () => admin('mapping'),
    previewMapping: (subject) => admin('mapping/preview', { method: 'POST', body: subject }),
    plugins: () => admin('plugins'),
    uploadPlugin: (upload) => admin('plugins', { method: 'POST', body: upload }),
    dryRunPlugin: (id, sample) => admin(`plugins/${seg(id)}/dry-run`, { method: 'POST', body: sample }),
    activatePlugin: (id) => admin(`plugins/${seg(id)}/activate`, { method: 'POST', body: {} }),
    rollbackPlugin: () => admin('plugins/rollback', { method: 'POST', body: {} }),
  };
}
