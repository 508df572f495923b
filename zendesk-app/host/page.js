// Zendesk's side of the ZAF SDK's postMessage protocol, in the host page (written from the SDK's source in
// node_modules/zendesk_app_framework_sdk/lib/client.js):
//  - the app posts {key: 'iframe.handshake'}; the host answers {key: 'zaf.app.registered', message: {context,
//    metadata}} (the SDK then sets client.ready and resolves context() and metadata());
//  - get/set/invoke are {id, request, params}; the answer is {id, result} (with an `errors` map) or {id, error};
//  - request() subscribes to 'request:N.done' / '.fail' and posts {key: 'request:N', message: options}; the host
//    sends the request through its proxy (POST /__zaf/request) and answers {key: 'zaf.request:N.done'|'.fail',
//    message: {responseArgs: [...]}} like jQuery's ajax callbacks;
//  - messages are JSON strings; the SDK accepts only messages from its parent window with the origin it was given.
(function () {
  const config = JSON.parse(document.getElementById('zaf-host-config').textContent);
  const frame = document.getElementById('zaf-app');
  const appOrigin = config.appOrigin;
  const log = (window.__zafLog = []);

  const post = (msg) => frame.contentWindow.postMessage(JSON.stringify(msg), appOrigin);

  function lookup(path) {
    const parts = path.split('.');
    let node = config.data;
    for (const part of parts) {
      if (node === null || node === undefined || typeof node !== 'object' || !(part in node)) return { missing: true };
      node = node[part];
    }
    return { value: node };
  }

  function get(paths) {
    const result = { errors: {} };
    for (const path of paths) {
      const found = lookup(path);
      if (found.missing) result.errors[path] = { name: 'InvalidPathError', message: `"${path}" is not available here`, path };
      else result[path] = found.value;
    }
    return result;
  }

  function invoke(params) {
    const result = { errors: {} };
    for (const [name, args] of Object.entries(params)) {
      if (name === 'resize') {
        const size = args[0] || {};
        if (config.location === 'ticket_sidebar') {
          if (size.height) frame.style.height = /^\d+$/.test(String(size.height)) ? `${size.height}px` : String(size.height);
          if (size.width) frame.style.width = /^\d+$/.test(String(size.width)) ? `${size.width}px` : String(size.width);
          frame.dataset.resized = String(Number(frame.dataset.resized || 0) + 1);
        }
        result[name] = null;
      } else {
        result.errors[name] = { name: 'InvalidActionError', message: `"${name}" is not supported by this host`, path: name };
      }
    }
    return result;
  }

  async function request(key, options) {
    let answer;
    try {
      const res = await fetch('/__zaf/request', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ location: config.location, options }),
      });
      answer = await res.json();
    } catch (err) {
      answer = { status: 0, statusText: 'error', body: '', contentType: '' };
    }
    const isJson = /json/i.test(answer.contentType || '') || options.dataType === 'json';
    let json;
    if (isJson && answer.body) {
      try {
        json = JSON.parse(answer.body);
      } catch {
        json = undefined;
      }
    }
    const xhr = { status: answer.status, statusText: answer.statusText, responseText: answer.body, responseJSON: json, readyState: 4 };
    const ok = answer.status >= 200 && answer.status < 300;
    log.push({ kind: 'request', url: options.url, status: answer.status });
    if (ok) {
      const data = json !== undefined ? json : answer.body;
      post({ key: `zaf.${key}.done`, message: { responseArgs: [data, 'success', xhr] } });
    } else {
      post({ key: `zaf.${key}.fail`, message: { responseArgs: [xhr, answer.status === 0 ? answer.statusText : 'error', answer.statusText] } });
    }
  }

  window.addEventListener('message', (event) => {
    if (event.origin !== appOrigin || event.source !== frame.contentWindow) return;
    let msg;
    try {
      msg = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
    } catch {
      return;
    }
    if (!msg) return;
    if (msg.request) {
      log.push({ kind: msg.request, params: msg.params });
      let reply;
      if (msg.request === 'get') reply = { id: msg.id, result: get(msg.params) };
      else if (msg.request === 'invoke') reply = { id: msg.id, result: invoke(msg.params) };
      else reply = { id: msg.id, error: { name: 'NotSupportedError', message: `"${msg.request}" is not supported by this host` } };
      post(reply);
      return;
    }
    if (typeof msg.key !== 'string') return;
    log.push({ kind: 'message', key: msg.key });
    if (msg.key === 'iframe.handshake') {
      post({ key: 'zaf.app.registered', message: { context: config.context, metadata: config.metadata } });
      document.body.dataset.handshake = 'done';
    } else if (/^request:\d+$/.test(msg.key)) {
      request(msg.key, msg.message || {});
    }
    // iframe.on:/iframe.off: subscriptions and iframe.trigger: events need no answer here.
  });
})();
