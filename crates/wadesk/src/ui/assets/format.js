// Formatting: times, names, phone numbers, message previews and status words. Pure functions.

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A Date from an RFC 3339 string or unix milliseconds; null when absent or invalid. */
export function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Whole calendar days between two dates (0 = same day). */
function daysBetween(a, b) {
  return Math.round((startOfDay(b) - startOfDay(a)) / DAY);
}

/** `14:03` */
export function timeOfDay(value) {
  const d = toDate(value);
  return d ? clock.format(d) : '';
}

/** Full date and time, for tooltips. */
export function dateTime(value) {
  const d = toDate(value);
  return d ? fullDateTime.format(d) : '';
}

/** The conversation list's time: `now`, `5 min`, `14:03`, `Yesterday`, `Tuesday`, `3 Nov 2026`. */
export function listTime(value, now = new Date()) {
  const d = toDate(value);
  if (!d) return '';
  const age = now.getTime() - d.getTime();
  if (age < MINUTE) return 'now';
  if (age < HOUR) return `${Math.floor(age / MINUTE)} min`;
  const days = daysBetween(d, now);
  if (days <= 0) return clock.format(d);
  if (days === 1) return 'Yesterday';
  if (days < 7) return weekday.format(d);
  return shortDate.format(d);
}

/** The chat's day separator: `Today`, `Yesterday`, `Tuesday`, `3 Nov 2026`. */
export function dayLabel(value, now = new Date()) {
  const d = toDate(value);
  if (!d) return '';
  const days = daysBetween(d, now);
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days < 7) return weekday.format(d);
  return shortDate.format(d);
}

/** A key identifying the calendar day of a time, for grouping. */
export function dayKey(value) {
  const d = toDate(value);
  return d ? `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}` : '';
}

/** `23 h 5 min`, `12 min`. */
export function duration(ms) {
  const h = Math.floor(ms / HOUR);
  const m = Math.floor((ms % HOUR) / MINUTE);
  if (h > 0) return `${h} h ${m} min`;
  return `${Math.max(m, 1)} min`;
}

/** Whether the customer service window is open at `now`. */
export function windowOpen(conversation, now = Date.now()) {
  const until = toDate(conversation?.window_open_until);
  return !!until && until.getTime() > now;
}

/** `+5511988887777` for a contact, from its phone or WhatsApp id. */
export function contactPhone(contact) {
  if (!contact) return '';
  if (contact.phone) return contact.phone;
  return contact.wa_id ? `+${contact.wa_id}` : '';
}

/** The name to show for a contact: the profile name, else the number. */
export function contactName(contact) {
  return (contact?.name || '').trim() || contactPhone(contact) || 'Unknown contact';
}

/** Up to two initials, or `#` for a bare number. */
export function initials(name) {
  const words = (name || '').replace(/[^\p{L}\p{N}\s]/gu, '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || /^\d/.test(words[0])) return '#';
  return words.slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

/** One of eight avatar colours, stable for a key. */
export function avatarClass(key) {
  let hash = 0;
  for (const ch of String(key)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `avatar-${hash % 8}`;
}

/** Digits of a phone number as typed (`+1 (555) 123-4567` → `15551234567`); null if not one. */
export function phoneDigits(input) {
  const trimmed = (input || '').trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return null;
  const digits = trimmed.replace(/\D/g, '');
  return digits.length >= 7 && digits.length <= 15 ? digits : null;
}

function withCaption(label, m) {
  const caption = m.content?.caption || m.text;
  return caption ? `${label} · ${caption}` : label;
}

/** A one-line summary of a message, for the list and quotes. */
export function previewText(m) {
  if (!m) return '';
  const c = m.content || {};
  switch (m.kind) {
    case 'text': return m.text ?? c.body ?? '';
    case 'image': return withCaption('📷 Photo', m);
    case 'video': return withCaption('🎥 Video', m);
    case 'audio': return c.voice ? '🎤 Voice message' : '🎵 Audio';
    case 'document': return `📄 ${c.filename || m.text || 'Document'}`;
    case 'sticker': return '💟 Sticker';
    case 'location': return `📍 ${c.name || c.address || 'Location'}`;
    case 'contacts': return `👤 ${m.text || 'Contact card'}`;
    case 'interactive': return `↩ ${m.text || 'Reply'}`;
    case 'button': return `↩ ${m.text || c.text || c.payload || 'Button'}`;
    case 'reaction': return c.emoji ? `Reacted ${c.emoji}` : 'Removed a reaction';
    case 'order': return `🛒 ${m.text || 'Order'}`;
    case 'template': return `📋 Template: ${c.name || ''}`.trim();
    case 'system': return systemText(m);
    default: return '⚠ Unsupported message';
  }
}

/** The sentence shown for a system message. */
export function systemText(m) {
  const c = m.content || {};
  if (c.type === 'request_welcome') return 'Customer opened the chat';
  if (c.type === 'user_changed_number') return m.text || 'The customer changed their number';
  return m.text || c.body || 'System message';
}

const STATUS_WORDS = {
  queued: 'Waiting to send',
  accepted: 'Sent',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  played: 'Played',
  failed: 'Not delivered',
  received: 'Received',
};

/** `Delivered`, `Waiting to send`, … */
export function statusWord(status) {
  return STATUS_WORDS[status] || status || '';
}

/** Meta's reason for a failure, as one line. */
export function errorText(error) {
  if (!error) return '';
  const parts = [error.title, error.detail].filter(Boolean);
  const text = parts.join(' — ') || 'Unknown error';
  return error.code ? `${text} (code ${error.code})` : text;
}

/** `1.2 kB` */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A conversation status, capitalised. */
export function capitalise(word) {
  return word ? word[0].toUpperCase() + word.slice(1) : '';
}
