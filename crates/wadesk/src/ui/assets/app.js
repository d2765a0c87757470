// The inbox front-end: sign-in, hash routes (#/, #/c/42, #/admin/…), the live event stream and
// the banners. Screens live in their own modules; this one wires them together.

import { mountAdmin } from './admin.js';
import { api, setUnauthorizedHandler } from './api.js';
import { createChat } from './chat.js';
import { h, isTyping } from './dom.js';
import { createInbox } from './inbox.js';
import { connectLive } from './live.js';
import { showLogin } from './login.js';
import { newChatDialog } from './newchat.js';

const root = document.getElementById('app');
const NOTICE_KEY = 'wadesk.notice';

/** Reloads the page into the sign-in screen, with a note for the user. */
function backToLogin(notice) {
  try { sessionStorage.setItem(NOTICE_KEY, notice); } catch { /* private mode */ }
  location.reload();
}

function takeNotice() {
  try {
    const notice = sessionStorage.getItem(NOTICE_KEY) || '';
    sessionStorage.removeItem(NOTICE_KEY);
    return notice;
  } catch {
    return '';
  }
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'c' && /^\d+$/.test(parts[1] || '')) return { view: 'inbox', chat: Number(parts[1]) };
  if (parts[0] === 'admin') return { view: 'admin', section: parts[1] || 'config', sub: parts[2] || null };
  return { view: 'inbox', chat: null };
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

let app = null;

function start(user) {
  const isAdmin = user.role === 'admin';
  const chat = createChat({ me: user, onConversation: (c) => inbox.upsert(c), navigate });
  const inbox = createInbox({
    me: user,
    isAdmin,
    onNewChat: () => newChatDialog(navigate),
    onLogout: logout,
    activeId: () => chat.currentId(),
    onUnread: (n) => {
      app.unread = n;
      if (!app.inboxView.hidden) document.title = inboxTitle();
    },
  });
  const inboxView = h('div', { class: 'inbox-layout' }, inbox.el, chat.el);
  const adminView = h('div', { class: 'admin-layout', hidden: true });
  root.replaceChildren(inboxView, adminView);
  app = { user, isAdmin, chat, inbox, inboxView, adminView, admin: null, health: null, live: 'connecting', ready: false };
  setUnauthorizedHandler(() => backToLogin('Your session has ended. Please sign in again.'));
  // Load only once the event stream is open, so that no change falls between the two (the
  // stream starts at the newest event when it opens). A stream that cannot open must not keep
  // the inbox empty, though.
  let loaded = false;
  const load = () => {
    if (loaded) return;
    loaded = true;
    app.ready = true;
    inbox.reload();
    refreshHealth();
    route();
  };
  setTimeout(load, 3000);
  app.stopLive = connectLive({
    onEvent,
    onState: (state) => {
      const reconnected = app.live === 'reconnecting' && state === 'open';
      app.live = state;
      paintBanners();
      if (state === 'open') load();
      if (reconnected) refreshHealth();
    },
    shouldRetry: async () => {
      try {
        await api.me();
        return true;
      } catch (e) {
        return e.status !== 401;
      }
    },
  });
}

async function logout() {
  try {
    await api.logout();
  } catch { /* signed out anyway once the page forgets the cookie */ }
  app?.stopLive?.();
  backToLogin('');
}

// --- routes -------------------------------------------------------------------------------

function route() {
  if (!app?.ready) return;
  const r = parseRoute();
  const inInbox = r.view === 'inbox';
  app.inboxView.hidden = !inInbox;
  app.adminView.hidden = inInbox;
  if (inInbox) {
    app.admin?.unmount();
    app.admin = null;
    app.inboxView.classList.toggle('chat-open', r.chat !== null);
    if (r.chat !== null) app.chat.open(r.chat);
    else app.chat.close();
    app.inbox.setActive();
    document.title = inboxTitle();
  } else {
    app.admin?.unmount();
    app.admin = mountAdmin(app.adminView, r, { me: app.user, isAdmin: app.isAdmin, navigate, health: () => app.health, refreshHealth });
    document.title = 'Admin · wadesk';
  }
}

/** `(3) wadesk` while 3 messages wait in other chats. */
function inboxTitle() {
  return app?.unread > 0 ? `(${app.unread}) wadesk` : 'wadesk';
}

// --- live updates -------------------------------------------------------------------------

const convFetches = new Map();

/** Fetches a conversation that changed; an event during the fetch triggers one more. */
function refreshConversation(id) {
  const running = convFetches.get(id);
  if (running) {
    running.again = true;
    return;
  }
  const run = { again: false };
  convFetches.set(id, run);
  api.conversation(id)
    .then((c) => {
      app.inbox.upsert(c);
      app.chat.onConversation(c);
    })
    .catch(() => {})
    .finally(() => {
      convFetches.delete(id);
      if (run.again) refreshConversation(id);
    });
}

function onEvent(name, data) {
  if (name === 'message.created') app.chat.onMessageCreated(data);
  else if (name === 'message.updated') app.chat.onMessageUpdated(data);
  else if (name === 'conversation.updated') refreshConversation(data.id);
  else if (name === 'outbox.paused' || name === 'outbox.resumed') refreshHealth();
  app.admin?.onEvent(name, data);
}

// --- health banners -----------------------------------------------------------------------

async function refreshHealth() {
  try {
    app.health = await api.health();
  } catch (e) {
    // 503 still carries the body; anything else leaves the last known state.
    if (e.status === 0) return;
  }
  paintBanners();
  app.admin?.onEvent('health', app.health);
}

function paintBanners() {
  const host = app.inbox.banner;
  const wa = app.health?.whatsapp;
  const banners = [];
  if (app.live === 'reconnecting') {
    banners.push(h('div', { class: 'banner banner-info', role: 'status', text: 'Connection lost — reconnecting…' }));
  }
  if (wa && !wa.configured) {
    banners.push(h('div', { class: 'banner banner-warn', role: 'alert', dataset: { banner: 'not-configured' } },
      h('strong', { text: 'WhatsApp is not configured. ' }),
      'Messages wait in the outbox until WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are set.'));
  } else if (wa?.paused) {
    banners.push(h('div', { class: 'banner banner-warn', role: 'alert', dataset: { banner: 'paused' } },
      h('strong', { text: 'Sending is paused. ' }), wa.reason || '',
      app.isAdmin && h('button', { type: 'button', class: 'button small', text: 'Resume', on: { click: resume } })));
  }
  host.replaceChildren(...banners);
}

async function resume() {
  try {
    await api.resume();
  } finally {
    refreshHealth();
  }
}

// --- keyboard -----------------------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  if (!app || document.querySelector('dialog[open]')) return;
  const inInbox = !app.inboxView.hidden;
  if (e.key === '/' && inInbox && !isTyping(e.target) && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    app.inbox.focusSearch();
  } else if (e.key === 'Escape' && inInbox) {
    if (app.chat.escape()) return;
    if (app.chat.currentId() !== null) navigate('#/');
  }
});

window.addEventListener('hashchange', route);

// --- boot ---------------------------------------------------------------------------------

async function boot() {
  const notice = takeNotice();
  try {
    const me = await api.me();
    if (me.user) {
      start(me.user);
      return;
    }
  } catch (e) {
    if (e.status !== 401) {
      root.replaceChildren(h('main', { class: 'login' }, h('div', { class: 'login-card' },
        h('h1', { text: 'wadesk' }), h('p', { class: 'form-error', text: e.message }),
        h('button', { type: 'button', class: 'button primary', text: 'Try again', on: { click: () => location.reload() } }))));
      return;
    }
  }
  showLogin(root, start, notice);
}

boot();
