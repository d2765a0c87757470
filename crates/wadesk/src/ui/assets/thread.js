// The scrolling message list of one chat: keeps messages in time order, renders each row once
// and replaces it when the message changes, adds day separators, loads older pages when the
// top comes into view, and keeps the view at the bottom while new messages arrive.

import { h, icon } from './dom.js';
import { dayKey, dayLabel, toDate } from './format.js';

const RANK = { received: 0, queued: 0, accepted: 1, sent: 2, failed: 3, delivered: 4, read: 5, played: 6 };
const NEAR_BOTTOM = 120;

function time(value) {
  return toDate(value)?.getTime() ?? 0;
}

function compare(a, b) {
  return time(a.created_at) - time(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Whether `next` should replace `prev` (two copies of one message fetched at different times,
 * whose answers may arrive out of order): a status only moves back with a later update (a retry).
 */
export function isNewer(next, prev) {
  if (!prev || prev.pending) return true;
  const rank = (RANK[next.status] ?? 0) - (RANK[prev.status] ?? 0);
  const later = time(next.status_updated_at) - time(prev.status_updated_at);
  return rank > 0 || later > 0 || (rank === 0 && later === 0);
}

/**
 * `render(m)` builds a row; `loadOlder()` returns a promise of older messages (or null when
 * there are none); `onUnseen(count)` is told how many new messages arrived out of view.
 */
export function createThread({ render, loadOlder, onUnseen }) {
  const top = h('div', { class: 'thread-top', 'aria-hidden': 'true' });
  const list = h('div', { class: 'thread-list' });
  const jump = h('button', { type: 'button', class: 'jump-latest', hidden: true, 'aria-label': 'Jump to the latest message', title: 'Jump to the latest message' },
    icon('down'), h('span', { class: 'jump-count' }));
  const scroller = h('div', { class: 'thread', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' }, top, list);
  const el = h('div', { class: 'thread-wrap' }, scroller, jump);

  const messages = new Map();
  const rows = new Map();
  let order = [];
  let unseen = 0;
  let olderDone = false;
  let loadingOlder = null;

  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
  const setUnseen = (n) => {
    unseen = n;
    jump.hidden = n === 0 && nearBottom();
    jump.querySelector('.jump-count').textContent = n > 0 ? String(n) : '';
    onUnseen?.(n);
  };
  const scrollToBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
    setUnseen(0);
  };
  jump.addEventListener('click', scrollToBottom);
  // Touch screens have no hover: a tap on a bubble shows its actions.
  list.addEventListener('click', (e) => {
    const row = e.target.closest('.msg');
    if (e.target.closest('a, button') || !row) return;
    for (const other of list.querySelectorAll('.msg.selected')) if (other !== row) other.classList.remove('selected');
    row.classList.toggle('selected');
  });
  scroller.addEventListener('scroll', () => {
    if (nearBottom()) setUnseen(0);
    else jump.hidden = false;
  }, { passive: true });

  // Day separators before the first message of each day; `first` marks where the sender
  // changes (bubbles of a run share one tail).
  const decorate = () => {
    for (const chip of list.querySelectorAll(':scope > .day')) {
      if (!chip.nextElementSibling?.classList.contains('msg')) chip.remove();
    }
    let prevDay = null;
    let prevSide = null;
    for (const row of list.querySelectorAll(':scope > .msg')) {
      const day = dayKey(row.dataset.createdAt);
      const before = row.previousElementSibling;
      const hasChip = before?.classList.contains('day');
      if (day !== prevDay) {
        const label = dayLabel(row.dataset.createdAt);
        if (hasChip) before.firstChild.textContent = label;
        else row.before(h('div', { class: 'day', role: 'separator' }, h('span', { text: label })));
      } else if (hasChip) {
        before.remove();
      }
      const side = row.classList.contains('out') ? 'out' : row.classList.contains('in') ? 'in' : 'note';
      row.classList.toggle('first', side !== prevSide || day !== prevDay);
      prevDay = day;
      prevSide = side;
    }
  };

  const place = (m, row) => {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(messages.get(order[mid]), m) < 0) lo = mid + 1;
      else hi = mid;
    }
    const next = order[lo] !== undefined ? rows.get(order[lo]) : null;
    order.splice(lo, 0, m.id);
    const anchor = next?.previousElementSibling?.classList.contains('day') ? next.previousElementSibling : next;
    list.insertBefore(row, anchor ?? null);
    return lo === order.length - 1;
  };

  /** Adds or replaces messages; `mine` scrolls to them whatever the position. */
  const upsert = (items, { mine = false, quiet = false } = {}) => {
    const stick = nearBottom();
    let added = 0;
    let changed = false;
    for (const m of items) {
      const prev = messages.get(m.id);
      if (prev && !isNewer(m, prev)) continue;
      const row = render(m);
      messages.set(m.id, m);
      if (prev) {
        const old = rows.get(m.id);
        const errorOpen = old?.querySelector('.msg-error:not([hidden])');
        const fresh = row.querySelector('.msg-error');
        if (errorOpen && fresh) fresh.hidden = false;
        old?.replaceWith(row);
        rows.set(m.id, row);
      } else {
        rows.set(m.id, row);
        if (place(m, row) && !quiet) added += 1;
      }
      changed = true;
    }
    if (!changed) return;
    decorate();
    if (mine || (stick && !quiet)) scrollToBottom();
    else if (added > 0) setUnseen(unseen + added);
  };

  const remove = (id) => {
    const i = order.indexOf(id);
    if (i >= 0) order.splice(i, 1);
    rows.get(id)?.remove();
    rows.delete(id);
    messages.delete(id);
    decorate();
  };

  /** Re-renders the rows for which `test(m)` holds (e.g. those quoting a message just loaded). */
  const rerender = (test) => {
    for (const [id, m] of messages) {
      if (!test(m)) continue;
      const row = render(m);
      rows.get(id)?.replaceWith(row);
      rows.set(id, row);
    }
    decorate();
  };

  const older = async () => {
    if (olderDone || loadingOlder) return loadingOlder;
    top.classList.add('loading');
    loadingOlder = (async () => {
      const before = scroller.scrollHeight;
      const fromTop = scroller.scrollTop;
      const batch = await loadOlder();
      if (!batch) olderDone = true;
      else {
        upsert(batch, { quiet: true });
        scroller.scrollTop = fromTop + (scroller.scrollHeight - before);
      }
    })();
    try {
      await loadingOlder;
    } finally {
      loadingOlder = null;
      top.classList.remove('loading');
    }
    // The observer only reports changes: if the top is still in view, keep going.
    if (!olderDone && top.getBoundingClientRect().bottom > scroller.getBoundingClientRect().top - 300) {
      setTimeout(() => older().catch(() => {}), 0);
    }
    return null;
  };

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) older().catch(() => {});
  }, { root: scroller, rootMargin: '300px 0px 0px 0px' });

  return {
    el,
    scroller,
    messages,
    get: (id) => messages.get(id),
    find: (test) => [...messages.values()].find(test),
    upsert,
    remove,
    rerender,
    scrollToBottom,
    /** Begins watching the top for older pages (after the first page is shown). */
    start(hasMore) {
      olderDone = !hasMore;
      scrollToBottom();
      observer.observe(top);
    },
    /** Scrolls to the row of `test`, loading older pages until it appears (bounded). */
    async reveal(test) {
      for (let i = 0; i < 20; i += 1) {
        const m = [...messages.values()].find(test);
        if (m) {
          const row = rows.get(m.id);
          row.scrollIntoView({ block: 'center', behavior: 'smooth' });
          row.classList.remove('flash');
          void row.offsetWidth;
          row.classList.add('flash');
          return true;
        }
        if (olderDone) return false;
        await older();
      }
      return false;
    },
    destroy() {
      observer.disconnect();
    },
  };
}
