// The conversation list: newest activity first, unread badges, last-message previews with
// ticks, a status filter and a search box (`q=`). Live changes arrive as fresh conversations
// from the app (`upsert`); with a search active the first page is fetched again instead.

import { api } from './api.js';
import { debounce, h, icon, iconButton } from './dom.js';
import { avatarClass, capitalise, contactName, contactPhone, initials, listTime, previewText, toDate } from './format.js';
import { tick } from './messages.js';

const FILTERS = [['', 'All'], ['open', 'Open'], ['pending', 'Pending'], ['resolved', 'Resolved']];
const FILTER_KEY = 'wadesk.filter';
const PAGE = 50;

function savedFilter() {
  try { return localStorage.getItem(FILTER_KEY) ?? ''; } catch { return ''; }
}

function activity(c) {
  return toDate(c.last_message_at)?.getTime() ?? 0;
}

/** `ctx`: { me, isAdmin, onNewChat(), onLogout(), activeId(), onUnread(total) } */
export function createInbox(ctx) {
  const conversations = new Map();
  const items = new Map();
  let filter = savedFilter();
  let query = '';
  let cursor = null;
  let loading = null;
  let generation = 0;
  // Conversations that changed while the list was being fetched: fresher than the page.
  let freshDuringLoad = new Map();

  const search = h('input', { type: 'search', class: 'search-input', placeholder: 'Search chats and messages', 'aria-label': 'Search conversations', autocomplete: 'off' });
  const chips = h('div', { class: 'filters', role: 'group', 'aria-label': 'Filter by status' },
    FILTERS.map(([value, label]) => h('button', { type: 'button', class: 'chip', dataset: { filter: value }, 'aria-pressed': String(value === filter), text: label,
      on: { click: () => setFilter(value) } })));
  const list = h('ul', { class: 'conv-list', 'aria-label': 'Conversations' });
  const more = h('li', { class: 'conv-more', 'aria-hidden': 'true' });
  const emptyNote = h('p', { class: 'conv-empty', hidden: true });
  const banner = h('div', { class: 'banners' });

  const el = h('aside', { class: 'sidebar', 'aria-label': 'Conversations' },
    h('header', { class: 'sidebar-header' },
      h('div', { class: `avatar me ${avatarClass(ctx.me.username)}`, title: `Signed in as ${ctx.me.username}`, text: initials(ctx.me.username) }),
      h('div', { class: 'me-name' }, h('strong', { text: ctx.me.username }), h('span', { class: 'hint', text: ctx.me.role === 'admin' ? 'Admin' : 'Agent' })),
      iconButton('plus', 'New chat', () => ctx.onNewChat(), 'new-chat-button'),
      ctx.isAdmin && h('a', { href: '#/admin', class: 'icon-button admin-link', 'aria-label': 'Admin', title: 'Admin' }, icon('settings')),
      iconButton('logout', 'Log out', () => ctx.onLogout(), 'logout-button')),
    banner,
    h('div', { class: 'search' }, icon('search', 'search-icon'), search),
    chips,
    h('div', { class: 'conv-scroll' }, list, emptyNote));

  // --- rendering --------------------------------------------------------------------------

  function item(c) {
    const active = ctx.activeId() === c.id;
    const unread = active && document.visibilityState === 'visible' ? 0 : c.unread_count;
    const last = c.last_message;
    const name = contactName(c.contact);
    return h('li', { class: 'conv-item' },
      h('a', { href: `#/c/${c.id}`, class: ['conv', unread > 0 && 'unread', active && 'active'], dataset: { id: c.id, status: c.status },
        'aria-current': active ? 'true' : null, 'aria-label': `${name}${unread ? `, ${unread} unread` : ''}` },
      h('span', { class: `avatar ${avatarClass(c.contact.wa_id || c.id)}`, 'aria-hidden': 'true', text: initials(c.contact.name || '') }),
      h('span', { class: 'conv-body' },
        h('span', { class: 'conv-top' },
          h('span', { class: 'conv-name', text: name }),
          h('time', { class: 'conv-time', datetime: c.last_message_at, text: listTime(c.last_message_at) })),
        h('span', { class: 'conv-bottom' },
          h('span', { class: 'conv-preview' },
            last && last.direction === 'outbound' ? tick(last) : null,
            h('span', { class: 'conv-preview-text', text: last ? previewText(last) : contactPhone(c.contact) })),
          c.status !== 'open' && h('span', { class: `tag tag-${c.status}`, text: capitalise(c.status) }),
          unread > 0 && h('span', { class: 'badge', 'aria-hidden': 'true', text: unread > 99 ? '99+' : String(unread) })),
        c.contact.name && h('span', { class: 'conv-phone', text: contactPhone(c.contact) }))));
  }

  function paintItem(c) {
    const fresh = item(c);
    const old = items.get(c.id);
    if (old) old.replaceWith(fresh);
    items.set(c.id, fresh);
  }

  // Order by activity; appending moves existing nodes, so this is cheap.
  function reorder() {
    const sorted = [...conversations.values()].sort((a, b) => activity(b) - activity(a) || b.id - a.id);
    for (const c of sorted) list.append(items.get(c.id));
    list.append(more);
    emptyNote.hidden = sorted.length > 0 || !!loading;
    ctx.onUnread?.(sorted.reduce((n, c) => n + (c.id === ctx.activeId() ? 0 : c.unread_count), 0));
    emptyNote.textContent = query ? `No chats match “${query}”.` : filter ? `No ${filter} conversations.` : 'No conversations yet. When a customer writes, the chat appears here.';
  }

  function matches(c) {
    return !filter || c.status === filter;
  }

  // --- loading ----------------------------------------------------------------------------

  async function load(reset) {
    const gen = reset ? ++generation : generation;
    if (!reset && (!cursor || loading)) return;
    if (reset) freshDuringLoad = new Map();
    const params = { status: filter, q: query, limit: PAGE, cursor: reset ? null : cursor };
    const run = api.conversations(params);
    loading = run;
    list.classList.add('loading');
    try {
      const page = await run;
      if (gen !== generation) return;
      if (reset) {
        conversations.clear();
        items.clear();
        list.replaceChildren();
      }
      const changed = new Set();
      for (const c of page.conversations) {
        if (!reset && conversations.has(c.id)) continue; // the copy shown came from an event
        conversations.set(c.id, c);
        changed.add(c.id);
      }
      for (const c of freshDuringLoad.values()) {
        const listed = conversations.get(c.id);
        if (matches(c) && !query && (!listed || activity(c) >= activity(listed))) {
          conversations.set(c.id, c);
          changed.add(c.id);
        }
      }
      freshDuringLoad = new Map();
      for (const id of changed) paintItem(conversations.get(id));
      cursor = page.next_cursor;
      reorder();
    } finally {
      if (loading === run) loading = null;
      list.classList.remove('loading');
      emptyNote.hidden = conversations.size > 0 || !!loading;
    }
  }

  const reload = () => load(true).catch(() => {});
  const reloadSoon = debounce(reload, 250);

  function setFilter(value) {
    filter = value;
    try { localStorage.setItem(FILTER_KEY, value); } catch { /* private mode */ }
    for (const chip of chips.children) chip.setAttribute('aria-pressed', String(chip.dataset.filter === value));
    reload();
  }

  search.addEventListener('input', debounce(() => {
    query = search.value.trim();
    reload();
  }, 250));
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && search.value) {
      e.stopPropagation();
      search.value = '';
      query = '';
      reload();
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      list.querySelector('a.conv')?.focus();
    }
  });

  // Arrow keys move between chats; Enter follows the link.
  list.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = [...list.querySelectorAll('a.conv')];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const next = links[i + (e.key === 'ArrowDown' ? 1 : -1)];
    if (next) next.focus();
    else if (e.key === 'ArrowUp') search.focus();
  });

  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) load(false).catch(() => {});
  }, { root: el.querySelector('.conv-scroll'), rootMargin: '0px 0px 200px 0px' }).observe(more);

  // Relative times age without any server traffic.
  setInterval(() => {
    for (const t of list.querySelectorAll('time.conv-time')) t.textContent = listTime(t.getAttribute('datetime'));
  }, 30000);

  return {
    el,
    banner,
    reload,
    focusSearch: () => { search.focus(); search.select(); },
    /** A fresh copy of a conversation: add, move, repaint or drop it. */
    upsert(c) {
      if (loading) freshDuringLoad.set(c.id, c);
      if (query) { reloadSoon(); return; }
      if (!matches(c)) {
        if (conversations.delete(c.id)) { items.get(c.id)?.remove(); items.delete(c.id); reorder(); }
        return;
      }
      const prev = conversations.get(c.id);
      if (!prev && cursor && conversations.size > 0) {
        // Older than everything shown and more pages remain: it will come with its page.
        const oldest = Math.min(...[...conversations.values()].map(activity));
        if (activity(c) < oldest) return;
      }
      conversations.set(c.id, c);
      paintItem(c);
      reorder();
    },
    /** Repaints the active marker (the route changed). */
    setActive() {
      for (const c of conversations.values()) paintItem(c);
      reorder();
    },
  };
}
