// Admin: the message log (filters and full-text search) and a form to send a test message.

import { errorBox, field, page, statusCell, table, when } from './admin-ui.js';
import { api, newKey } from './api.js';
import { debounce, h } from './dom.js';
import { contactName, contactPhone, errorText, phoneDigits, previewText } from './format.js';

const STATUSES = ['received', 'queued', 'accepted', 'sent', 'delivered', 'read', 'played', 'failed'];

/** Conversation lookups for the "contact" column, one request per conversation. */
function contactCache() {
  const cache = new Map();
  return (id) => {
    if (!cache.has(id)) cache.set(id, api.conversation(id).catch(() => null));
    return cache.get(id);
  };
}

function contactCell(lookup, m) {
  const cell = h('a', { href: `#/c/${m.conversation_id}`, class: 'contact-link', text: `#${m.conversation_id}` });
  lookup(m.conversation_id).then((c) => {
    if (!c) return;
    cell.textContent = contactName(c.contact);
    cell.title = contactPhone(c.contact);
  });
  return cell;
}

function direction(m) {
  const out = m.direction === 'outbound';
  return h('span', { class: `dir dir-${m.direction}`, title: out ? 'Outbound' : 'Inbound', text: out ? '↗ out' : '↙ in' });
}

function messageTable(messages, lookup, empty) {
  return table([
    ['Time', (m) => when(m.created_at)],
    ['', direction],
    ['Contact', (m) => contactCell(lookup, m)],
    ['Message', (m) => h('span', { class: 'log-text', text: previewText(m) }), 'wide'],
    ['Status', statusCell],
    ['Error', (m) => (m.error ? h('span', { class: 'error-text', text: errorText(m.error) }) : '')],
  ], messages, { empty, caption: 'Messages', rowClass: (m) => `log-row log-${m.status}` });
}

export function mountLog(content) {
  const lookup = contactCache();
  const q = h('input', { type: 'search', class: 'input', placeholder: 'Words in messages, names or numbers' });
  const dir = h('select', { class: 'select' }, h('option', { value: '', text: 'Any' }), h('option', { value: 'inbound', text: 'Inbound' }), h('option', { value: 'outbound', text: 'Outbound' }));
  const status = h('select', { class: 'select' }, h('option', { value: '', text: 'Any' }), STATUSES.map((s) => h('option', { value: s, text: s })));
  const phone = h('input', { type: 'tel', class: 'input', placeholder: '+15551234567' });
  const since = h('input', { type: 'datetime-local', class: 'input' });
  const until = h('input', { type: 'datetime-local', class: 'input' });
  const form = h('form', { class: 'filters-form' },
    field('Search', q), field('Direction', dir), field('Status', status), field('Phone', phone), field('From', since), field('To', until),
    h('div', { class: 'field field-actions' }, h('button', { type: 'submit', class: 'button primary', text: 'Apply' }),
      h('button', { type: 'reset', class: 'button', text: 'Clear' })));
  const results = h('div', { class: 'log-results' });
  const moreButton = h('button', { type: 'button', class: 'button', text: 'Load older', hidden: true });
  content.replaceChildren(page('Message log', 'Every message in and out, newest first.', form, results, moreButton));

  let cursor = null;
  let shown = [];
  let params = {};

  const iso = (input) => (input.value ? new Date(input.value).toISOString() : null);

  async function run(more = false) {
    moreButton.hidden = true;
    try {
      if (q.value.trim()) {
        const found = await api.search(q.value.trim());
        results.replaceChildren(
          h('h2', { class: 'admin-subtitle', text: `Messages (${found.messages.length})` }),
          messageTable(found.messages, lookup, 'No message contains that.'),
          h('h2', { class: 'admin-subtitle', text: `Contacts (${found.contacts.length})` }),
          table([['Name', (c) => c.name || '—'], ['Phone', (c) => contactPhone(c)]], found.contacts, { empty: 'No contact matches.' }));
        return;
      }
      if (!more) {
        const digits = phone.value.trim() ? phoneDigits(phone.value) : null;
        if (phone.value.trim() && !digits) throw new Error('Enter the phone number with its country code.');
        params = { direction: dir.value, status: status.value, phone: digits, since: iso(since), until: iso(until), limit: 50 };
        shown = [];
      }
      const r = await api.messages({ ...params, cursor: more ? cursor : null });
      shown = shown.concat(r.messages);
      cursor = r.next_cursor;
      results.replaceChildren(messageTable(shown, lookup, 'No messages match these filters.'));
      moreButton.hidden = !cursor;
    } catch (e) {
      results.replaceChildren(errorBox(e));
    }
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  form.addEventListener('reset', () => setTimeout(() => run(), 0));
  moreButton.addEventListener('click', () => run(true));
  run();

  // New messages: refresh the first page unless the user is paging or searching.
  const refresh = debounce(() => { if (!cursor || shown.length <= 50) run(); }, 700);
  return {
    onEvent(name) {
      if ((name === 'message.created' || name === 'message.updated') && !q.value.trim()) refresh();
    },
  };
}

// --- send a test message ------------------------------------------------------------------

export function mountSend(content) {
  const to = h('input', { type: 'tel', class: 'input', required: true, placeholder: '+15551234567' });
  const kind = h('select', { class: 'select' }, h('option', { value: 'text', text: 'Text (needs an open 24-hour window)' }), h('option', { value: 'template', text: 'Template' }));
  const text = h('textarea', { class: 'input', rows: 3, placeholder: 'Hello from wadesk!' });
  const name = h('input', { class: 'input', placeholder: 'hello_world' });
  const lang = h('input', { class: 'input', value: 'en_US' });
  const textFields = h('div', {}, field('Message', text));
  const templateFields = h('div', { hidden: true }, field('Template name', name), field('Language code', lang));
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const result = h('div', { class: 'send-result' });
  const button = h('button', { type: 'submit', class: 'button primary', text: 'Send' });
  const form = h('form', { class: 'form send-form' }, field('To', to, 'With country code'), field('Type', kind), textFields, templateFields, error, h('div', { class: 'form-actions' }, button));
  content.replaceChildren(page('Send a test message', 'Queues a message through the outbox, exactly as the API does, and follows its delivery.', form, result));

  kind.addEventListener('change', () => {
    textFields.hidden = kind.value !== 'text';
    templateFields.hidden = kind.value !== 'template';
  });

  let sent = null;
  const paint = (m) => {
    sent = m;
    result.replaceChildren(h('div', { class: 'card' },
      h('h2', { text: 'Queued' }),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Message id' }), h('dd', { class: 'mono', text: m.id }),
        h('dt', { text: 'Status' }), h('dd', {}, statusCell(m)),
        m.error && [h('dt', { text: 'Error' }), h('dd', { class: 'error-text', text: errorText(m.error) })]),
      h('a', { href: `#/c/${m.conversation_id}`, class: 'button', text: 'Open the conversation' })));
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    const digits = phoneDigits(to.value);
    if (!digits) {
      error.textContent = 'Enter the phone number with its country code.';
      error.hidden = false;
      return;
    }
    const body = kind.value === 'text'
      ? { to: `+${digits}`, type: 'text', text: { body: text.value } }
      : { to: `+${digits}`, type: 'template', template: { name: name.value.trim(), language: { code: lang.value.trim() } } };
    button.disabled = true;
    try {
      paint(await api.send(body, newKey()));
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  return {
    async onEvent(name, data) {
      if (name !== 'message.updated' || !sent || data.id !== sent.id) return;
      try { paint(await api.message(sent.id)); } catch { /* keep what we have */ }
    },
  };
}
