// Entry point of the app's single page (assets/iframe.html), for both locations: the ticket sidebar and the
// nav-bar admin panel. It talks to Zendesk only through the ZAF SDK (bundled from npm, see scripts/build.mjs).
import ZAFClient from 'zendesk_app_framework_sdk';
import { createApi } from './api.js';
import { replaceContent } from './dom.js';
import { callout } from './components.js';
import { startSidebar } from './sidebar.js';
import { startNavbar } from './navbar.js';

const root = document.getElementById('app');

function fatal(title, ...lines) {
  replaceContent(root, callout('error', title, ...lines));
}

/** Keeps the iframe as tall as its content (the ticket sidebar has no scroll bar of its own). */
function autoResize(client) {
  let last = 0;
  let queued = false;
  const measure = () => {
    queued = false;
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      client.invoke('resize', { width: '100%', height: `${height}px` });
    }
  };
  new ResizeObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(measure);
    }
  }).observe(document.body);
}

async function main() {
  const client = ZAFClient.init();
  if (!client) {
    fatal('This page runs inside Zendesk', 'Open it as the ml-connector app in Zendesk Support.');
    return;
  }
  const [context, metadata] = await Promise.all([client.context(), client.metadata()]);
  const tenant = context?.account?.subdomain;
  const baseUrl = metadata?.settings?.backend_url;
  document.body.dataset.location = context?.location ?? '';
  if (!baseUrl) {
    fatal('The app is not set up yet', "Its ml-connector URL setting is empty. Ask a Zendesk admin to fill in the app's settings.");
    return;
  }
  if (!tenant) {
    fatal('No Zendesk account in the app context', 'Reload the page; if it persists, tell your ml-connector admin.');
    return;
  }
  const api = createApi(client, { baseUrl, tenant });
  let locale = 'en-US';
  try {
    const who = await client.get('currentUser.locale');
    if (who['currentUser.locale']) locale = who['currentUser.locale'];
  } catch {
    // keep en-US
  }

  if (context.location === 'nav_bar') {
    startNavbar({ root, api, locale });
    return;
  }
  autoResize(client);
  const data = await client.get(['ticket.id', 'ticket.subject', 'ticket.description', 'ticket.requester.email', 'ticket.organization']);
  const organization = data['ticket.organization'];
  const ticket = {
    id: data['ticket.id'] ?? context.ticketId,
    subject: data['ticket.subject'] ?? '',
    // The description is the first comment and travels in the query string (docs/api.md); the server only looks
    // for invoice numbers in it, so a long one is cut to keep the URL well under common limits.
    description: String(data['ticket.description'] ?? '').slice(0, 2000),
    requesterEmail: data['ticket.requester.email'] ?? '',
    organizationExternalId: organization?.externalId ?? '',
  };
  if (!ticket.id) {
    fatal('No ticket', 'The sidebar needs a saved ticket; save the ticket and reopen the app.');
    return;
  }
  startSidebar({ root, api, ticket, locale });
}

main().catch((err) => {
  fatal('The app could not start', String(err?.message ?? err), 'Reload the page; if it persists, tell your ml-connector admin.');
  // Keep the reason in the console for whoever investigates.
  console.error('ml-connector app:', err);
});

