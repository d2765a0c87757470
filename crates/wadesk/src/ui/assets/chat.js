// The chat pane: header (contact, window state, status control), the message thread and the
// composer. Sends appear at once as queued bubbles and are replaced by the server's message;
// live events refetch what changed.

import { api, newKey } from './api.js';
import { createComposer } from './composer.js';
import { h, icon, iconButton, replaceChildren, toast } from './dom.js';
import { avatarClass, capitalise, contactName, contactPhone, duration, initials, toDate, windowOpen } from './format.js';
import { renderMessage } from './messages.js';
import { createThread } from './thread.js';

const PAGE = 50;

/** `ctx`: { me (user), onConversation(conv), navigate(hash) } */
export function createChat(ctx) {
  const el = h('section', { class: 'chat', 'aria-label': 'Chat' });
  const drafts = new Map();
  let s = null; // the open conversation's state
  let seq = 0;
  // While a conversation loads, events about it wait here and are replayed once it shows.
  let opening = null;

  const empty = () => el.replaceChildren(h('div', { class: 'chat-empty' },
    h('img', { src: '/assets/icon.svg', alt: '', class: 'chat-empty-logo' }),
    h('h2', { text: 'wadesk' }),
    h('p', { text: 'Pick a conversation on the left, or start a new chat.' }),
    h('p', { class: 'hint', text: 'Shortcuts: / search · Esc back · Enter send · Shift+Enter new line' })));
  empty();

  // --- header -----------------------------------------------------------------------------

  function header() {
    const name = h('h2', { class: 'chat-name' });
    const sub = h('div', { class: 'chat-sub' });
    const status = h('select', { class: 'select status-select', 'aria-label': 'Conversation status',
      on: { change: () => setStatus(status.value) } },
    ['open', 'pending', 'resolved'].map((v) => h('option', { value: v, text: capitalise(v) })));
    const resolve = h('button', { type: 'button', class: 'button resolve-button', on: { click: () => setStatus(s.conv.status === 'resolved' ? 'open' : 'resolved') } });
    const avatar = h('div', { class: 'avatar' });
    const el = h('header', { class: 'chat-header' },
      iconButton('back', 'Back to chats', () => ctx.navigate('#/'), 'back-button'),
      avatar, h('div', { class: 'chat-title' }, name, sub), status, resolve);
    return { el, name, sub, status, resolve, avatar };
  }

  function paintHeader() {
    const { conv, head } = s;
    const who = contactName(conv.contact);
    head.name.textContent = who;
    head.avatar.className = `avatar ${avatarClass(conv.contact.wa_id || conv.id)}`;
    head.avatar.textContent = initials(conv.contact.name || '');
    const phone = contactPhone(conv.contact);
    const open = windowOpen(conv);
    const until = toDate(conv.window_open_until);
    const windowText = open ? `Window open · ${duration(until.getTime() - Date.now())} left` : 'Window closed · templates only';
    replaceChildren(head.sub,
      phone && who !== phone ? h('span', { class: 'chat-phone', text: phone }) : null,
      h('span', { class: ['window-state', open ? 'open' : 'closed'], dataset: { window: open ? 'open' : 'closed' },
        title: open ? `Free text allowed until ${until.toLocaleString()}` : 'The customer has not written in the last 24 hours' }, windowText));
    head.status.value = conv.status;
    const label = conv.status === 'resolved' ? 'Reopen' : 'Resolve';
    head.resolve.replaceChildren(icon(conv.status === 'resolved' ? 'chat' : 'check'), h('span', { class: 'resolve-label', text: label }));
    head.resolve.setAttribute('aria-label', `${label} conversation`);
    head.resolve.title = `${label} conversation`;
    el.dataset.status = conv.status;
  }

  async function setStatus(status) {
    try {
      const conv = await api.updateConversation(s.conv.id, { status });
      setConversation(conv);
      ctx.onConversation(conv);
      toast(status === 'resolved' ? 'Conversation resolved' : `Conversation marked ${status}`);
    } catch (e) {
      toast(e.message, 'error');
      paintHeader();
    }
  }

  // --- window -----------------------------------------------------------------------------

  function paintWindow() {
    const open = windowOpen(s.conv);
    s.composer.setWindow(open, s.conv.window_open_until);
    clearTimeout(s.windowTimer);
    clearInterval(s.clockTimer);
    const until = toDate(s.conv.window_open_until);
    if (open) {
      // Local timers only: the window closes by the clock, not by any server event.
      s.windowTimer = setTimeout(() => { if (s) { paintWindow(); paintHeader(); } }, Math.min(until.getTime() - Date.now() + 50, 2 ** 31 - 1));
      s.clockTimer = setInterval(() => { if (s) paintHeader(); }, 60000);
    }
  }

  // --- messages ---------------------------------------------------------------------------

  const quoteCache = new Map();
  function quoted(wamid) {
    const m = s.thread.find((x) => x.wamid === wamid || x.id === wamid) || quoteCache.get(wamid);
    if (m) return m;
    if (!quoteCache.has(wamid)) {
      quoteCache.set(wamid, null);
      const mine = s;
      api.message(wamid)
        .then((found) => quoteCache.set(wamid, found))
        .catch(() => quoteCache.set(wamid, { id: wamid, kind: 'text', text: 'Message not available', direction: 'inbound' }))
        .then(() => { if (s === mine) s.thread.rerender((x) => x.reply_to === wamid || x.content?.message_id === wamid); });
    }
    return null;
  }

  function renderContext() {
    return {
      me: ctx.me.username,
      contactName: contactName(s.conv.contact),
      quoted,
      onReply: (m) => setReply(m),
      onJump: (wamid) => s.thread.reveal((x) => x.wamid === wamid || x.id === wamid).then((found) => {
        if (!found) toast('That message is no longer in this conversation.');
      }),
      onRetry: (m) => submit(m),
      onDiscard: (m) => { s.pending.delete(m.key); s.thread.remove(m.id); },
    };
  }

  function setReply(m) {
    s.replyTo = m;
    s.composer.setReply(m, m && (m.direction === 'outbound' ? 'You' : contactName(s.conv.contact)));
  }

  async function loadOlder() {
    if (!s.cursor) return null;
    const mine = s;
    const page = await api.conversationMessages(mine.conv.id, mine.cursor, PAGE);
    if (s !== mine) return null;
    mine.cursor = page.next_cursor;
    return page.messages;
  }

  // --- sending ----------------------------------------------------------------------------

  function localMessage(fields) {
    const key = newKey();
    const now = new Date().toISOString();
    return {
      id: `local-${key}`, key, pending: true, wamid: null, conversation_id: s.conv.id, direction: 'outbound',
      status: 'queued', error: null, reply_to: null, author: `user:${ctx.me.username}`, created_at: now, status_updated_at: now,
      ...fields,
    };
  }

  async function submit(local) {
    const mine = s;
    local.status = 'queued';
    local.localError = null;
    local.status_updated_at = new Date().toISOString();
    mine.pending.set(local.key, local);
    mine.thread.upsert([{ ...local }], { mine: true });
    try {
      const m = await api.send(local.body, local.key);
      if (s !== mine) return;
      mine.pending.delete(local.key);
      mine.thread.remove(local.id);
      mine.thread.upsert([m], { mine: true });
    } catch (e) {
      if (s !== mine) return;
      mine.thread.upsert([{ ...local, status: 'failed', localError: e.message, status_updated_at: new Date().toISOString() }]);
      if (e.code === 'window_closed') refreshConversation();
      throw e;
    }
  }

  async function sendText(text) {
    const reply = s.replyTo;
    const to = contactPhone(s.conv.contact);
    const body = { to, type: 'text', text: { body: text } };
    if (reply) body.reply_to = reply.wamid || reply.id;
    const local = localMessage({ kind: 'text', text, content: { body: text }, reply_to: reply ? reply.wamid || reply.id : null, body });
    setReply(null);
    drafts.delete(s.conv.id);
    await submit(local).catch(() => {});
  }

  async function sendTemplate(name, code) {
    const to = contactPhone(s.conv.contact);
    const template = { name, language: { code } };
    const body = { to, type: 'template', template };
    const local = localMessage({ kind: 'template', text: `[template: ${name}]`, content: template, body });
    await submit(local);
  }

  /** A message the server created that answers one of our pending sends (it beat the 202). */
  function adopt(m) {
    if (m.direction !== 'outbound') return;
    for (const [key, local] of s.pending) {
      if (local.text === m.text && local.kind === m.kind) {
        s.pending.delete(key);
        s.thread.remove(local.id);
        return;
      }
    }
  }

  // --- conversation -----------------------------------------------------------------------

  function setConversation(conv) {
    s.conv = conv;
    paintHeader();
    paintWindow();
    maybeMarkRead();
  }

  async function refreshConversation() {
    const mine = s;
    try {
      const conv = await api.conversation(mine.conv.id);
      if (s === mine) {
        setConversation(conv);
        ctx.onConversation(conv);
      }
    } catch { /* the next event will tell */ }
  }

  function maybeMarkRead() {
    if (!s || s.conv.unread_count <= 0 || document.visibilityState !== 'visible' || s.marking) return;
    const mine = s;
    mine.marking = true;
    api.markRead(mine.conv.id)
      .then((conv) => {
        ctx.onConversation(conv);
        if (s === mine) { s.conv = conv; paintHeader(); }
      })
      .catch(() => {})
      .finally(() => { mine.marking = false; });
  }
  document.addEventListener('visibilitychange', () => maybeMarkRead());

  async function open(id) {
    if (s && s.conv.id === id) return;
    const my = ++seq;
    close();
    opening = { id, events: [], conv: null };
    el.replaceChildren(h('div', { class: 'chat-loading', role: 'status', text: 'Loading conversation…' }));
    let conv;
    let page;
    try {
      [conv, page] = await Promise.all([api.conversation(id), api.conversationMessages(id, null, PAGE)]);
    } catch (e) {
      if (my !== seq) return;
      opening = null;
      el.replaceChildren(h('div', { class: 'chat-empty' }, h('h2', { text: e.status === 404 ? 'Conversation not found' : 'Could not load the conversation' }), h('p', { text: e.message }),
        h('a', { class: 'button', href: '#/', text: 'Back to chats' })));
      return;
    }
    if (my !== seq) return;
    const waiting = opening;
    opening = null;
    if (waiting.conv) conv = waiting.conv;
    s = { conv, cursor: page.next_cursor, pending: new Map(), replyTo: null, head: header(), marking: false };
    s.thread = createThread({ render: (m) => renderMessage(m, renderContext()), loadOlder });
    s.composer = createComposer({ onSend: sendText, onSendTemplate: sendTemplate, onCancelReply: () => setReply(null) });
    s.composer.draft = drafts.get(id) || '';
    s.composer.input.addEventListener('input', () => drafts.set(id, s?.composer.draft));
    el.dataset.conversationId = String(id);
    el.replaceChildren(s.head.el, s.thread.el, s.composer.el);
    setConversation(conv);
    s.thread.upsert(page.messages, { quiet: true });
    s.thread.start(!!page.next_cursor);
    if (window.matchMedia('(hover: hover)').matches) s.composer.focus();
    ctx.onConversation(conv);
    for (const [data, created] of waiting.events) onMessage(data, created);
  }

  function close() {
    if (!s) return;
    clearTimeout(s.windowTimer);
    clearInterval(s.clockTimer);
    s.thread.destroy();
    s = null;
    quoteCache.clear();
    delete el.dataset.conversationId;
    delete el.dataset.status;
  }

  /** A message changed or appeared: fetch it if it belongs to the open chat. */
  async function onMessage(data, created) {
    if (opening?.id === data.conversation_id) opening.events.push([data, created]);
    if (!s || data.conversation_id !== s.conv.id) return;
    const mine = s;
    try {
      const m = await api.message(data.id);
      if (s !== mine) return;
      if (created) adopt(m);
      mine.thread.upsert([m], { mine: created && m.direction === 'outbound' && m.author === `user:${ctx.me.username}` });
      if (m.wamid && quoteCache.has(m.wamid)) quoteCache.set(m.wamid, m);
    } catch { /* deleted or forbidden: nothing to show */ }
  }

  return {
    el,
    open,
    close: () => { seq += 1; opening = null; close(); empty(); },
    /** The conversation shown, or being opened. */
    currentId: () => s?.conv.id ?? opening?.id ?? null,
    onMessageCreated: (data) => onMessage(data, true),
    onMessageUpdated: (data) => onMessage(data, false),
    /** A fresher copy of a conversation (from an event). */
    onConversation: (conv) => {
      if (opening?.id === conv.id) opening.conv = conv;
      if (s && s.conv.id === conv.id) setConversation(conv);
    },
    focus: () => s?.composer.focus(),
    /** Escape: cancel a reply first; returns whether it did something. */
    escape() {
      if (s?.replyTo) { setReply(null); return true; }
      return false;
    },
  };
}
