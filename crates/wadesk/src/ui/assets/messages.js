// One message as a chat row: bubble, quote, kind-specific content, time and ticks. Knows
// nothing of where messages come from; the chat gives it a context:
//   { me, contactName, quoted(wamid) → message|null, onReply(m), onJump(wamid),
//     onRetry(m), onDiscard(m) }

import { h, icon, tickSvg } from './dom.js';
import { dateTime, errorText, previewText, statusWord, systemText, timeOfDay } from './format.js';

const TICK_KIND = { queued: 'clock', accepted: 'one', sent: 'one', delivered: 'two', read: 'two', played: 'two' };

/** The delivery mark of an outbound message; a button showing the reason when it failed. */
export function tick(m, onFailedClick = null) {
  if (m.direction !== 'outbound') return null;
  const status = m.status;
  if (status === 'failed') {
    const reason = m.localError || errorText(m.error);
    return h('button', {
      type: 'button', class: 'tick tick-failed', dataset: { status }, title: `Not delivered: ${reason}`,
      'aria-label': `Not delivered: ${reason}`, on: { click: (e) => { e.stopPropagation(); onFailedClick?.(); } },
    }, tickSvg('cross'));
  }
  const word = statusWord(status);
  return h('span', { class: `tick tick-${status}`, dataset: { status }, title: word, role: 'img', 'aria-label': word },
    tickSvg(TICK_KIND[status] || 'clock'));
}

// Text with WhatsApp's markers (*bold*, _italic_, ~strike~, ```mono```) and links, built as
// nodes: nothing from a message is ever parsed as HTML.
const TOKENS = /(```[\s\S]+?```|\*[^*\n]+\*|_[^_\n]+_|~[^~\n]+~|https?:\/\/[^\s<>"]+)/g;

export function richText(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(TOKENS)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(token(match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function token(t) {
  if (t.startsWith('```')) return h('code', { text: t.slice(3, -3) });
  if (t.startsWith('http')) {
    const url = t.replace(/[.,;:!?)]+$/, '');
    const rest = t.slice(url.length);
    return [h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url }), rest];
  }
  const tag = { '*': 'strong', _: 'em', '~': 's' }[t[0]];
  return h(tag, { text: t.slice(1, -1) });
}

const MEDIA = {
  image: ['📷', 'Photo'],
  video: ['🎥', 'Video'],
  audio: ['🎵', 'Audio'],
  document: ['📄', 'Document'],
  sticker: ['💟', 'Sticker'],
};

function mediaCard(m) {
  const c = m.content || {};
  let [emoji, label] = MEDIA[m.kind];
  if (m.kind === 'audio' && c.voice) [emoji, label] = ['🎤', 'Voice message'];
  if (m.kind === 'document' && c.filename) label = c.filename;
  const caption = c.caption || (m.kind !== 'document' ? m.text : null);
  return [
    h('div', { class: 'media-card' },
      h('span', { class: 'media-emoji', 'aria-hidden': 'true', text: emoji }),
      h('span', { class: 'media-text' },
        h('span', { class: 'media-label', text: label }),
        h('span', { class: 'media-sub', text: c.mime_type ? `${c.mime_type} · preview not available yet` : 'Preview not available yet' }))),
    caption && h('div', { class: 'text' }, richText(caption)),
  ];
}

function locationCard(c) {
  const lat = Number(c.latitude);
  const lon = Number(c.longitude);
  const map = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
  return h('div', { class: 'media-card' },
    h('span', { class: 'media-emoji', 'aria-hidden': 'true', text: '📍' }),
    h('span', { class: 'media-text' },
      h('span', { class: 'media-label', text: c.name || 'Location' }),
      c.address && h('span', { class: 'media-sub', text: c.address }),
      h('a', { href: map, target: '_blank', rel: 'noopener noreferrer', class: 'media-sub', text: `${lat.toFixed(5)}, ${lon.toFixed(5)}` })));
}

function contactsCard(c) {
  return (c.contacts || []).map((card) => h('div', { class: 'media-card' },
    h('span', { class: 'media-emoji', 'aria-hidden': 'true', text: '👤' }),
    h('span', { class: 'media-text' },
      h('span', { class: 'media-label', text: card?.name?.formatted_name || 'Contact' }),
      (card?.phones || []).map((p) => h('span', { class: 'media-sub', text: p.phone || p.wa_id || '' })))));
}

const INTERACTIVE = { button_reply: 'Button reply', list_reply: 'List reply', nfm_reply: 'Form response' };

/** The inside of a bubble, by kind. */
function body(m) {
  const c = m.content || {};
  switch (m.kind) {
    case 'text':
      return h('div', { class: 'text' }, richText(m.text ?? c.body ?? ''));
    case 'image': case 'video': case 'audio': case 'document': case 'sticker':
      return mediaCard(m);
    case 'location':
      return locationCard(c);
    case 'contacts':
      return contactsCard(c);
    case 'interactive':
      return [h('div', { class: 'kind-label', text: INTERACTIVE[c.type] || 'Interactive reply' }),
        h('div', { class: 'text', text: m.text || c.title || '' }),
        c.description && h('div', { class: 'media-sub', text: c.description })];
    case 'button':
      return [h('div', { class: 'kind-label', text: 'Button' }), h('div', { class: 'text', text: m.text || c.text || c.payload || '' })];
    case 'order':
      return [h('div', { class: 'kind-label', text: `🛒 Order · ${(c.product_items || []).length} item(s)` }),
        m.text && h('div', { class: 'text', text: m.text })];
    case 'template':
      return h('div', { class: 'template-card' },
        h('span', { class: 'kind-label', text: '📋 Template' }),
        h('span', { class: 'text mono', text: `${c.name || ''}${c.language?.code ? ` · ${c.language.code}` : ''}` }));
    default:
      return h('div', { class: 'text unsupported', text: `⚠ This message type is not supported${c.type ? ` (${c.type})` : ''}. Open WhatsApp on a phone to see it.` });
  }
}

function quoteBlock(m, ctx) {
  if (!m.reply_to) return null;
  const q = ctx.quoted(m.reply_to);
  const who = !q ? '' : q.direction === 'outbound' ? 'You' : ctx.contactName;
  return h('button', {
    type: 'button', class: ['quote', q && q.direction === 'outbound' ? 'quote-out' : 'quote-in'],
    dataset: { replyTo: m.reply_to }, title: 'Show the quoted message',
    on: { click: () => ctx.onJump(m.reply_to) },
  },
  h('span', { class: 'quote-who', text: who || 'Quoted message' }),
  h('span', { class: 'quote-text', text: q ? previewText(q) : 'Loading…' }));
}

function authorLabel(m, ctx) {
  if (m.direction !== 'outbound' || !m.author || m.author === `user:${ctx.me}`) return null;
  const [type, name] = m.author.split(/:(.*)/s);
  return h('div', { class: 'author', text: type === 'token' ? `${name} (API)` : name || m.author });
}

function errorNote(m, ctx) {
  if (m.status !== 'failed') return null;
  const reason = m.localError || errorText(m.error);
  return h('div', { class: 'msg-error', role: 'note', hidden: true },
    h('strong', { text: 'Not delivered. ' }), reason,
    m.localError && h('span', { class: 'msg-error-actions' },
      h('button', { type: 'button', class: 'link-button', text: 'Try again', on: { click: () => ctx.onRetry(m) } }),
      h('button', { type: 'button', class: 'link-button', text: 'Discard', on: { click: () => ctx.onDiscard(m) } })));
}

/** A centered note: system messages and the customer opening the chat. */
function noteRow(m) {
  return h('div', { class: 'msg note', dataset: rowData(m) }, h('span', { class: 'note-text', text: systemText(m) }));
}

function reactionRow(m, ctx) {
  const c = m.content || {};
  const target = c.message_id && ctx.quoted(c.message_id);
  const who = m.direction === 'outbound' ? 'You' : ctx.contactName;
  const what = c.emoji ? `reacted ${c.emoji}` : 'removed a reaction';
  const to = target ? ` to “${previewText(target)}”` : '';
  return h('div', { class: ['msg', 'reaction', m.direction === 'outbound' ? 'out' : 'in'], dataset: rowData(m) },
    h('button', { type: 'button', class: 'reaction-note', title: dateTime(m.created_at), on: { click: () => c.message_id && ctx.onJump(c.message_id) } },
      h('span', { class: 'reaction-emoji', 'aria-hidden': 'true', text: c.emoji || '∅' }),
      `${who} ${what}${to}`));
}

function rowData(m) {
  const data = { id: m.id, status: m.status, kind: m.kind, createdAt: m.created_at };
  if (m.wamid) data.wamid = m.wamid;
  if (m.pending) data.pending = '1';
  return data;
}

/** The row for message `m`. */
export function renderMessage(m, ctx) {
  if (m.kind === 'system') return noteRow(m);
  if (m.kind === 'reaction') return reactionRow(m, ctx);
  const out = m.direction === 'outbound';
  const error = errorNote(m, ctx);
  const toggleError = () => { if (error) error.hidden = !error.hidden; };
  const forwarded = m.content?.context?.forwarded || m.content?.context?.frequently_forwarded;
  const row = h('div', { class: ['msg', out ? 'out' : 'in', m.pending && 'pending'], dataset: rowData(m) },
    h('div', { class: ['bubble', `kind-${m.kind}`] },
      authorLabel(m, ctx),
      forwarded && h('div', { class: 'forwarded', text: '↪ Forwarded' }),
      quoteBlock(m, ctx),
      body(m),
      h('span', { class: 'meta' },
        h('time', { datetime: m.created_at, title: dateTime(m.created_at), text: timeOfDay(m.created_at) }),
        tick(m, toggleError)),
      !m.pending && h('button', { type: 'button', class: 'msg-action', 'aria-label': 'Reply', title: 'Reply', on: { click: () => ctx.onReply(m) } }, icon('reply'))),
    error);
  return row;
}
