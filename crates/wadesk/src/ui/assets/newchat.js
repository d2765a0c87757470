// "New chat" by phone number: opens the existing conversation with that number, or — since a
// business may only start a conversation with an approved template — sends a template and
// opens the conversation it creates.

import { api, newKey } from './api.js';
import { openDialog } from './dialogs.js';
import { h } from './dom.js';
import { phoneDigits } from './format.js';

async function existingConversation(digits) {
  const page = await api.conversations({ q: digits, limit: 20 });
  return page.conversations.find((c) => c.contact.wa_id === digits || (c.contact.phone || '').replace(/\D/g, '') === digits) || null;
}

/** Opens the dialog; `navigate(hash)` moves to the chat. */
export function newChatDialog(navigate) {
  const phone = h('input', { class: 'input', id: 'new-chat-phone', type: 'tel', required: true, placeholder: '+15551234567', autocomplete: 'off' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const findButton = h('button', { type: 'submit', class: 'button primary', text: 'Continue' });
  const step1 = h('form', { class: 'form new-chat-phone-form' },
    h('label', { for: 'new-chat-phone', text: 'Phone number, with country code' }), phone, error,
    h('div', { class: 'form-actions' }, findButton));

  const name = h('input', { class: 'input', id: 'new-chat-template', required: true, placeholder: 'hello_world', pattern: '[a-z0-9_]+', autocomplete: 'off' });
  const lang = h('input', { class: 'input', id: 'new-chat-language', required: true, value: 'en_US', autocomplete: 'off' });
  const explain = h('p', { class: 'hint' });
  const sendError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const sendButton = h('button', { type: 'submit', class: 'button primary', text: 'Send template' });
  const step2 = h('form', { class: 'form new-chat-template-form', hidden: true },
    explain,
    h('label', { for: 'new-chat-template', text: 'Template name' }), name,
    h('label', { for: 'new-chat-language', text: 'Language code' }), lang, sendError,
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'button', text: 'Back', on: { click: () => { step2.hidden = true; step1.hidden = false; phone.focus(); } } }),
      sendButton));

  const dialog = openDialog({ title: 'New chat', body: [step1, step2], className: 'new-chat-dialog' });
  phone.focus();
  let digits = null;
  let key = null;

  step1.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    digits = phoneDigits(phone.value);
    if (!digits) {
      error.textContent = 'Enter a phone number with its country code, e.g. +44 7700 900123.';
      error.hidden = false;
      return;
    }
    findButton.disabled = true;
    try {
      const found = await existingConversation(digits);
      if (found) {
        dialog.close();
        navigate(`#/c/${found.id}`);
        return;
      }
      explain.textContent = `There is no conversation with +${digits} yet. WhatsApp lets a business start one only with an approved message template; free text is possible once the customer replies.`;
      key = newKey(); // one per number: a double click sends once
      step1.hidden = true;
      step2.hidden = false;
      name.focus();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      findButton.disabled = false;
    }
  });

  step2.addEventListener('submit', async (e) => {
    e.preventDefault();
    sendError.hidden = true;
    sendButton.disabled = true;
    try {
      const body = { to: `+${digits}`, type: 'template', template: { name: name.value.trim(), language: { code: lang.value.trim() } } };
      const m = await api.send(body, key);
      dialog.close();
      navigate(`#/c/${m.conversation_id}`);
    } catch (err) {
      sendError.textContent = err.message;
      sendError.hidden = false;
    } finally {
      sendButton.disabled = false;
    }
  });
}
