// The composer under a chat: a growing text box (Enter sends, Shift+Enter breaks the line), the
// message being replied to, and — when the 24-hour window is closed — the explanation and a
// template form instead of free text.

import { h, icon } from './dom.js';
import { duration, previewText, toDate } from './format.js';

const MAX_CHARS = 4096;
const MAX_HEIGHT = 160;

/**
 * `onSend(text)` and `onSendTemplate(name, languageCode)` return promises; `onCancelReply()`
 * is called when the reply bar is closed.
 */
export function createComposer({ onSend, onSendTemplate, onCancelReply }) {
  const input = h('textarea', {
    class: 'composer-input', rows: 1, placeholder: 'Type a message', 'aria-label': 'Message',
    autocomplete: 'off', spellcheck: 'true',
  });
  const counter = h('span', { class: 'counter', 'aria-live': 'polite', hidden: true });
  const sendButton = h('button', { type: 'submit', class: 'send-button', 'aria-label': 'Send', title: 'Send (Enter)', disabled: true }, icon('send'));
  const form = h('form', { class: 'composer-form' }, input, counter, sendButton);

  const replyWho = h('span', { class: 'quote-who' });
  const replyText = h('span', { class: 'quote-text' });
  const replyBar = h('div', { class: 'reply-bar', hidden: true },
    h('div', { class: 'quote quote-static' }, replyWho, replyText),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Cancel reply', title: 'Cancel reply', on: { click: () => onCancelReply() } }, icon('close')));

  const templateName = h('input', { class: 'input', name: 'template', required: true, placeholder: 'hello_world', 'aria-label': 'Template name', pattern: '[a-z0-9_]+', title: 'Lower-case letters, digits and underscores, as in WhatsApp Manager' });
  const templateLang = h('input', { class: 'input lang', name: 'language', required: true, value: 'en_US', 'aria-label': 'Template language code' });
  const templateError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const templateButton = h('button', { type: 'submit', class: 'button primary', text: 'Send template' });
  const templateForm = h('form', { class: 'template-form' }, templateName, templateLang, templateButton);
  const closedNote = h('div', { class: 'window-closed', hidden: true },
    h('p', { class: 'window-closed-text' }, icon('lock'),
      h('span', { text: 'The 24-hour customer service window is closed: the customer has not written in the last 24 hours, so WhatsApp only delivers an approved template. Free text becomes possible again when they reply.' })),
    templateForm, templateError);

  const el = h('footer', { class: 'composer' }, closedNote, replyBar, form);
  let windowOpen = true;

  const refreshButton = () => {
    const length = [...input.value].length;
    const blank = input.value.trim() === '';
    sendButton.disabled = !windowOpen || blank || length > MAX_CHARS;
    counter.hidden = length < MAX_CHARS - 300;
    counter.textContent = `${length} / ${MAX_CHARS}`;
    counter.classList.toggle('over', length > MAX_CHARS);
  };
  const grow = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT)}px`;
    input.style.overflowY = input.scrollHeight > MAX_HEIGHT ? 'auto' : 'hidden';
  };

  // The box empties at once, so a second Enter cannot send the same text again; the next
  // message may go while the first is still on its way.
  const submit = () => {
    if (sendButton.disabled) return;
    const text = input.value;
    input.value = '';
    grow();
    refreshButton();
    onSend(text);
  };

  input.addEventListener('input', () => { grow(); refreshButton(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  templateForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    templateError.hidden = true;
    templateButton.disabled = true;
    try {
      await onSendTemplate(templateName.value.trim(), templateLang.value.trim());
      templateName.value = '';
    } catch (err) {
      templateError.textContent = err.message;
      templateError.hidden = false;
    } finally {
      templateButton.disabled = false;
    }
  });

  return {
    el,
    input,
    /** Shows free text or the template form; `until` is the window's end when open. */
    setWindow(open, until = null) {
      windowOpen = open;
      closedNote.hidden = open;
      input.disabled = !open;
      input.placeholder = open ? 'Type a message' : 'Free text is unavailable: send a template';
      el.classList.toggle('closed', !open);
      const end = toDate(until);
      input.title = open && end ? `Window open for ${duration(end.getTime() - Date.now())}` : '';
      refreshButton();
    },
    /** Shows the message being replied to (or hides the bar for null). */
    setReply(m, who) {
      replyBar.hidden = !m;
      if (m) {
        replyWho.textContent = who;
        replyText.textContent = previewText(m);
        replyBar.querySelector('.quote').classList.toggle('quote-out', m.direction === 'outbound');
        input.focus();
      }
    },
    get draft() { return input.value; },
    set draft(text) {
      input.value = text || '';
      grow();
      refreshButton();
    },
    focus() {
      if (windowOpen) input.focus();
      else templateName.focus();
    },
    isOpen: () => windowOpen,
  };
}
