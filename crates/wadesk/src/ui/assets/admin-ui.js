// Building blocks of the admin pages: page heads, tabs, tables, empty and error states.

import { h } from './dom.js';
import { dateTime, listTime, statusWord } from './format.js';
import { tick } from './messages.js';

/** A page: title, optional intro, content. */
export function page(title, intro, ...content) {
  return h('section', { class: 'admin-page' },
    h('h1', { class: 'admin-title', text: title }),
    intro && h('p', { class: 'hint admin-intro', text: intro }),
    content);
}

/** Links styled as tabs; `items` are [hash, label, count?]. */
export function tabs(items, active, label) {
  return h('nav', { class: 'tabs', 'aria-label': label },
    items.map(([hash, text, count]) => h('a', { href: hash, class: ['tab', hash === active && 'active'], 'aria-current': hash === active ? 'page' : null },
      text, count !== undefined && count !== null && h('span', { class: 'tab-count', text: String(count) }))));
}

/** A table: `columns` are [header, cell(row) → node/string, className?]. */
export function table(columns, rows, { empty = 'Nothing here.', rowClass = null, caption = null } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty-state', text: empty });
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      caption && h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', {}, h('tr', {}, columns.map(([title, , cls]) => h('th', { scope: 'col', class: cls, text: title })))),
      h('tbody', {}, rows.map((row) => h('tr', { class: rowClass?.(row) },
        columns.map(([, cell, cls]) => h('td', { class: cls }, cell(row))))))));
}

/** Shows a failed request in place of content. */
export function errorBox(e) {
  return h('p', { class: 'form-error', role: 'alert', text: e.status === 403 ? 'Admins only.' : e.message });
}

export function loadingBox() {
  return h('p', { class: 'hint', role: 'status', text: 'Loading…' });
}

/** A time shown relative, with the full date on hover. */
export function when(value) {
  if (!value) return '—';
  return h('time', { datetime: typeof value === 'number' ? new Date(value).toISOString() : value, title: dateTime(value), text: listTime(value) });
}

/** A delivery status with its tick. */
export function statusCell(m) {
  return h('span', { class: `status status-${m.status}` }, tick(m), ` ${statusWord(m.status)}`);
}

/** Runs `load()` and renders its result with `render` into `host`, showing progress and errors. */
export async function fill(host, load, render) {
  if (!host.hasChildNodes()) host.append(loadingBox());
  host.setAttribute('aria-busy', 'true');
  try {
    const data = await load();
    host.replaceChildren(render(data));
  } catch (e) {
    host.replaceChildren(errorBox(e));
  } finally {
    host.removeAttribute('aria-busy');
  }
}

/** A labelled form field. */
export function field(label, input, hint = null) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hint && h('span', { class: 'hint', text: hint }));
}
