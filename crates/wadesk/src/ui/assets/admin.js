// The admin area: navigation and the configuration page; the other pages are in
// admin-log.js, admin-queue.js and admin-people.js. Agents get "Admins only".

import { mountLog, mountSend } from './admin-log.js';
import { mountTokens, mountUsers } from './admin-people.js';
import { mountOutbox, mountWebhooks } from './admin-queue.js';
import { page, table } from './admin-ui.js';
import { api } from './api.js';
import { debounce, h, icon, toast } from './dom.js';

const SECTIONS = [
  ['config', 'Configuration'],
  ['log', 'Message log'],
  ['send', 'Send a test'],
  ['outbox', 'Outbox'],
  ['webhooks', 'Webhook journal'],
  ['users', 'Users'],
  ['tokens', 'API tokens'],
];

const MOUNT = {
  config: mountConfig,
  log: mountLog,
  send: mountSend,
  outbox: mountOutbox,
  webhooks: mountWebhooks,
  users: mountUsers,
  tokens: mountTokens,
};

/** Renders route `r` into `host`; returns { onEvent(name, data), unmount() }. */
export function mountAdmin(host, r, ctx) {
  const back = h('a', { href: '#/', class: 'button back-to-inbox' }, icon('back'), ' Inbox');
  if (!ctx.isAdmin) {
    host.replaceChildren(h('main', { class: 'admin-denied' },
      h('h1', { text: 'Admins only' }),
      h('p', { text: 'This part of wadesk is for administrators. Ask one if you need something changed.' }),
      back));
    return { onEvent() {}, unmount() {} };
  }
  const section = MOUNT[r.section] ? r.section : 'config';
  const nav = h('nav', { class: 'admin-nav', 'aria-label': 'Admin' },
    back,
    h('ul', {}, SECTIONS.map(([key, label]) => h('li', {},
      h('a', { href: `#/admin/${key}`, class: key === section ? 'active' : null, 'aria-current': key === section ? 'page' : null, text: label })))));
  const content = h('main', { class: 'admin-content', tabindex: '-1' });
  host.replaceChildren(nav, content);
  const mounted = MOUNT[section](content, ctx, r.sub) || {};
  return {
    onEvent: (name, data) => mounted.onEvent?.(name, data),
    unmount: () => mounted.unmount?.(),
  };
}

// --- configuration ------------------------------------------------------------------------

function yesNo(ok, yes, no) {
  return h('span', { class: ['pill', ok ? 'pill-ok' : 'pill-warn'], text: ok ? yes : no });
}

function mountConfig(content, ctx) {
  const body = h('div', { class: 'config' });
  content.replaceChildren(page('Configuration', 'How this server talks to WhatsApp, and what is waiting.', body));

  const paint = (health) => {
    if (!health) {
      body.replaceChildren(h('p', { class: 'hint', text: 'Loading…' }));
      return;
    }
    const wa = health.whatsapp || {};
    const resume = h('button', { type: 'button', class: 'button primary resume-button', text: 'Resume sending', on: { click: async () => {
      resume.disabled = true;
      try {
        const r = await api.resume();
        toast(r.resumed ? 'Sending resumed.' : 'Sending was not paused.');
      } catch (e) {
        toast(e.message, 'error');
      } finally {
        ctx.refreshHealth();
      }
    } } });
    body.replaceChildren(
      h('div', { class: 'cards' },
        h('div', { class: 'card' },
          h('h2', { text: 'WhatsApp' }),
          h('dl', { class: 'facts' },
            h('dt', { text: 'Configured' }), h('dd', { dataset: { fact: 'configured' } }, yesNo(wa.configured, 'Yes', 'No')),
            h('dt', { text: 'Sending' }), h('dd', { dataset: { fact: 'paused' } }, yesNo(!wa.paused, 'Running', 'Paused')),
            wa.reason && [h('dt', { text: 'Reason' }), h('dd', { class: 'pause-reason', text: wa.code ? `${wa.reason} (code ${wa.code})` : wa.reason })]),
          wa.paused && wa.configured && resume,
          !wa.configured && h('p', { class: 'hint', text: 'Set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID (and WHATSAPP_APP_SECRET for webhooks), then restart.' })),
        h('div', { class: 'card' },
          h('h2', { text: 'Server' }),
          h('dl', { class: 'facts' },
            h('dt', { text: 'Status' }), h('dd', {}, yesNo(health.status === 'ok', 'OK', 'Degraded')),
            h('dt', { text: 'Database' }), h('dd', {}, yesNo(health.database === 'ok', 'OK', health.database || 'unknown')),
            h('dt', { text: 'Version' }), h('dd', { class: 'mono', text: health.version || '' })))),
      h('h2', { class: 'admin-subtitle', text: 'Queues' }),
      table([
        ['Queue', (r) => h('a', { href: r[2], text: r[0] })],
        ['Count', (r) => h('span', { class: ['count', r[1] > 0 && r[3] && 'count-bad'], text: String(r[1]) }), 'num'],
      ], [
        ['Outbox · queued', health.outbox?.queued ?? 0, '#/admin/outbox/queued', false],
        ['Outbox · retrying', health.outbox?.retrying ?? 0, '#/admin/outbox/retrying', true],
        ['Outbox · failed', health.outbox?.failed ?? 0, '#/admin/outbox/failed', true],
        ['Webhooks · pending', health.webhooks?.pending ?? 0, '#/admin/webhooks/pending', false],
        ['Webhooks · failed', health.webhooks?.failed ?? 0, '#/admin/webhooks/failed', true],
      ], { caption: 'Queue counts' }));
  };

  paint(ctx.health());
  ctx.refreshHealth();
  // Queue counts move with messages; ask again once things settle.
  const refreshSoon = debounce(() => ctx.refreshHealth(), 500);
  return {
    onEvent(name, data) {
      if (name === 'health') paint(data);
      else if (name === 'message.updated' || name === 'message.created') refreshSoon();
    },
  };
}
