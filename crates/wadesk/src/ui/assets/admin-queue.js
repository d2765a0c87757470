// Admin: the outbox (queued, retrying, failed; retry and cancel) and the webhook journal
// (received bodies, failures, reprocess).

import { confirmDialog } from './dialogs.js';
import { fill, page, statusCell, table, tabs, when } from './admin-ui.js';
import { api } from './api.js';
import { bytes, errorText, previewText } from './format.js';
import { debounce, h, toast } from './dom.js';

function actionButton(label, run, { danger = false, disabled = false, title = null } = {}) {
  const b = h('button', { type: 'button', class: ['button', 'small', danger && 'danger'], text: label, disabled, title });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await run();
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      b.disabled = disabled;
    }
  });
  return b;
}

function refreshButton(run) {
  return h('button', { type: 'button', class: 'button small refresh-button', text: 'Refresh', on: { click: run } });
}

// --- outbox -------------------------------------------------------------------------------

const OUTBOX_STATES = ['queued', 'retrying', 'failed'];

export function mountOutbox(content, ctx, sub) {
  const state = OUTBOX_STATES.includes(sub) ? sub : 'queued';
  const counts = ctx.health()?.outbox || {};
  const list = h('div', { class: 'outbox-list', dataset: { state } });
  const bar = tabs(OUTBOX_STATES.map((s) => [`#/admin/outbox/${s}`, s[0].toUpperCase() + s.slice(1), counts[s]]), `#/admin/outbox/${state}`, 'Outbox state');
  content.replaceChildren(page('Outbox', 'Messages waiting to go to WhatsApp, retrying after an error, or failed for good.', h('div', { class: 'toolbar' }, bar, refreshButton(() => load())), list));

  const cancel = async (m) => {
    if (!(await confirmDialog('Cancel this message? It will not be sent and shows as failed in the chat.', 'Cancel message', true))) return;
    await api.cancel(m.id);
    toast('Message cancelled.');
    load();
  };
  const retry = async (m) => {
    await api.retry(m.id);
    toast('Queued again.');
    load();
  };

  const waiting = (entries) => table([
    ['Message', (e) => h('a', { href: `#/c/${e.message.conversation_id}`, class: 'log-text', text: previewText(e.message) }), 'wide'],
    ['To', (e) => h('span', { class: 'mono', text: e.recipient })],
    ['Attempts', (e) => String(e.attempts), 'num'],
    ['Next attempt', (e) => (e.in_flight ? h('span', { class: 'pill pill-ok', text: 'sending now' }) : when(e.next_attempt_at))],
    ['Last error', (e) => h('span', { class: 'error-text', text: e.last_error || '' })],
    ['', (e) => actionButton('Cancel', () => cancel(e.message), { danger: true, disabled: e.in_flight, title: e.in_flight ? 'Being sent right now' : null })],
  ], entries, { empty: state === 'queued' ? 'Nothing waiting to be sent.' : 'Nothing waiting for a retry.', caption: `Outbox: ${state}` });

  const failed = (entries) => table([
    ['Message', (e) => h('a', { href: `#/c/${e.message.conversation_id}`, class: 'log-text', text: previewText(e.message) }), 'wide'],
    ['Failed', (e) => when(e.message.status_updated_at)],
    ['Status', (e) => statusCell(e.message)],
    ['Reason', (e) => h('span', { class: 'error-text', text: errorText(e.message.error) })],
    ['', (e) => {
      const accepted = !!e.message.wamid;
      return actionButton('Retry', () => retry(e.message), {
        disabled: accepted,
        title: accepted ? 'WhatsApp accepted this message before it failed; send a new one instead.' : 'Send it again',
      });
    }],
  ], entries, { empty: 'No failed messages.', caption: 'Outbox: failed' });

  const load = () => {
    ctx.refreshHealth();
    return fill(list, () => api.outbox(state), (r) => (state === 'failed' ? failed(r.entries) : waiting(r.entries)));
  };
  load();
  const soon = debounce(load, 500);
  return {
    onEvent(name, data) {
      if (name === 'health') {
        for (const a of bar.querySelectorAll('a.tab')) {
          const key = a.getAttribute('href').split('/').pop();
          const count = a.querySelector('.tab-count');
          if (count) count.textContent = String(data?.outbox?.[key] ?? 0);
        }
      } else if (name.startsWith('message.') || name.startsWith('outbox.')) {
        soon();
      }
    },
  };
}

// --- webhook journal ----------------------------------------------------------------------

const JOURNAL_STATES = ['failed', 'pending', 'done'];

function bodyPreview(e) {
  let text = e.body || '';
  try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* show it raw */ }
  const short = text.length > 160 ? `${text.slice(0, 160).replace(/\s+/g, ' ')}…` : text.replace(/\s+/g, ' ');
  return h('details', { class: 'body-preview' },
    h('summary', { class: 'mono', text: short || '(empty)' }),
    h('pre', { class: 'mono', text }));
}

export function mountWebhooks(content, ctx, sub) {
  const state = JOURNAL_STATES.includes(sub) ? sub : 'failed';
  const counts = ctx.health()?.webhooks || {};
  const list = h('div', { class: 'journal-list', dataset: { state } });
  const bar = tabs(JOURNAL_STATES.map((s) => [`#/admin/webhooks/${s}`, s[0].toUpperCase() + s.slice(1), s === 'done' ? null : counts[s]]), `#/admin/webhooks/${state}`, 'Journal state');
  content.replaceChildren(page('Webhook journal', 'Every webhook body WhatsApp posted, as received. A body that could not be applied is kept with its error and retried; fix the cause, then reprocess it.',
    h('div', { class: 'toolbar' }, bar, refreshButton(() => load())), list));

  const reprocess = async (e) => {
    await api.reprocess(e.id);
    toast(`Event ${e.id} queued for reprocessing.`);
    load();
  };

  const render = (r) => table([
    ['#', (e) => String(e.id), 'num'],
    ['Received', (e) => when(e.received_at)],
    ['Source', (e) => e.source || ''],
    ['Signature', (e) => h('span', { class: ['pill', e.signature === 'valid' ? 'pill-ok' : 'pill-warn'], text: String(e.signature ?? '') })],
    ['Attempts', (e) => String(e.attempts), 'num'],
    ['Error', (e) => h('span', { class: 'error-text', text: e.last_error || '' })],
    ['Size', (e) => bytes(e.size), 'num'],
    ['Body', bodyPreview, 'wide'],
    ['', (e) => (e.state === 'failed' ? actionButton('Reprocess', () => reprocess(e)) : '')],
  ], r.events, { empty: `No ${state} webhook events.`, caption: `Webhook events: ${state}` });

  const load = () => {
    ctx.refreshHealth();
    return fill(list, () => api.webhookEvents(state), render);
  };
  load();
  const soon = debounce(load, 1000);
  return {
    onEvent(name) {
      if (name === 'message.created' && state !== 'failed') soon();
    },
  };
}
