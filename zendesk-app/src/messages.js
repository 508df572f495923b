// What an error means for the person looking at the app, and what they can do about it.

const SIGNATURE_CODES = ['missing_token', 'malformed_token', 'invalid_signature', 'unsupported_algorithm'];

/** {title, detail, action} for an ApiError. `where` is 'agent' or 'admin'. */
export function explainError(err, { where = 'agent', baseUrl = '', tenant = '' } = {}) {
  const code = err?.code ?? 'unknown';
  const status = err?.status ?? 0;
  if (code === 'network') {
    return {
      title: "Can't reach ml-connector",
      detail: `No answer from ${baseUrl || 'the server'}.`,
      action: "Check the app's ml-connector URL setting and that the server is running, then try again.",
    };
  }
  if (code === 'timeout') {
    return {
      title: 'ml-connector did not answer in time',
      detail: 'The request was given up after 30 seconds.',
      action: 'Try again in a moment.',
    };
  }
  if (SIGNATURE_CODES.includes(code)) {
    return {
      title: 'ml-connector refused the app\u2019s signature',
      detail: `${err.message} (${code}).`,
      action:
        `Ask your Zendesk admin to set the app's JWT shared secret to the jwt-shared-secret of tenant "${tenant}" in ml-connector.`,
    };
  }
  if (code === 'token_expired' || code === 'token_not_yet_valid') {
    return {
      title: 'The clocks of Zendesk and ml-connector disagree',
      detail: `${err.message} (${code}).`,
      action: "Ask your ml-connector admin to check the server's clock.",
    };
  }
  if (code === 'token_lifetime_too_long') {
    return {
      title: 'ml-connector refused the token lifetime',
      detail: `${err.message} (${code}).`,
      action: 'The app and the server disagree on the longest token lifetime; tell your ml-connector admin.',
    };
  }
  if (where === 'admin' && status === 401) {
    return {
      title: `The admin key is not valid for tenant "${tenant}"`,
      detail: `${err.message} (${code}).`,
      action: `Create one with \`ml-connector tenant admin-key ${tenant}\` and paste it into the app's Admin API key setting.`,
    };
  }
  if (code === 'workday_unavailable') {
    return {
      title: 'Workday is not answering',
      detail: 'Nothing is cached for this yet, so there is nothing to show.',
      action: 'Try again in a few minutes; if it lasts, tell your ml-connector admin.',
    };
  }
  if (code === 'workday_timeout') {
    return {
      title: 'Workday is too slow right now',
      detail: 'Workday did not answer in time and nothing is cached for this yet.',
      action: 'Try again in a few minutes.',
    };
  }
  if (code === 'supplier_not_found') {
    return { title: 'Supplier not found in Workday', detail: err.message, action: 'Check the supplier ID.' };
  }
  if (code === 'invoice_not_found') {
    return { title: 'Invoice not found in Workday', detail: err.message, action: 'Check the number with the requester.' };
  }
  if (code === 'query_too_short') {
    return { title: 'Type at least 2 characters', detail: '', action: '' };
  }
  if (code === 'sync_running') {
    return { title: 'A sync is already running', detail: err.message, action: 'Wait for it to finish; its progress shows below.' };
  }
  if (status === 503) {
    return { title: 'ml-connector is busy', detail: `${err.message} (${code}).`, action: 'Try again in a moment.' };
  }
  if (status === 404) {
    return {
      title: 'ml-connector does not know this',
      detail: `${err.message} (${code}).`,
      action: `Check that tenant "${tenant}" exists on the server and that the server is up to date.`,
    };
  }
  return {
    title: 'ml-connector answered with an error',
    detail: `${err?.message ?? 'Unknown error'} (${code}${status ? `, HTTP ${status}` : ''}).`,
    action: 'Try again; if it keeps happening, give the reference below to your ml-connector admin.',
  };
}
