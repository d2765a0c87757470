// Modal dialogs on the native <dialog> element: it traps focus, closes on Escape and gives
// focus back to the element that opened it.

import { h, icon } from './dom.js';

let counter = 0;

/**
 * Opens a modal dialog with a title, a body and an optional footer; it removes itself when
 * closed. Returns the dialog element (call `.close()` to close it).
 */
export function openDialog({ title, body, footer = null, className = '', onClose = null }) {
  const titleId = `dialog-title-${++counter}`;
  const dialog = h('dialog', { class: `dialog ${className}`.trim(), 'aria-labelledby': titleId },
    h('header', { class: 'dialog-header' },
      h('h2', { id: titleId, text: title }),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close', on: { click: () => dialog.close() } }, icon('close'))),
    h('div', { class: 'dialog-body' }, body),
    footer && h('footer', { class: 'dialog-footer' }, footer));
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose?.();
  });
  // A click on the backdrop (outside the box) closes, as people expect.
  dialog.addEventListener('mousedown', (e) => {
    if (e.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Asks a yes/no question; resolves to true when confirmed. */
export function confirmDialog(question, confirmLabel = 'OK', danger = false) {
  return new Promise((resolve) => {
    let answer = false;
    const ok = h('button', { type: 'button', class: danger ? 'button danger' : 'button primary', text: confirmLabel,
      on: { click: () => { answer = true; dialog.close(); } } });
    const cancel = h('button', { type: 'button', class: 'button', text: 'Cancel', on: { click: () => dialog.close() } });
    const dialog = openDialog({
      title: 'Please confirm',
      body: h('p', { text: question }),
      footer: [cancel, ok],
      onClose: () => resolve(answer),
    });
    ok.focus();
  });
}

/** Shows a secret once, with a copy button. */
export function secretDialog(title, explanation, secret) {
  const field = h('input', { type: 'text', class: 'input mono secret-value', value: secret, readOnly: true, 'aria-label': title });
  const copied = h('span', { class: 'hint', role: 'status' });
  const copy = h('button', { type: 'button', class: 'button primary', on: { click: async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = 'Copied.';
    } catch {
      copied.textContent = 'Press Ctrl+C to copy the selected text.';
    }
  } } }, icon('copy'), ' Copy');
  const dialog = openDialog({
    title,
    body: [h('p', { text: explanation }), field, copied],
    footer: [copy, h('button', { type: 'button', class: 'button', text: 'Done', on: { click: () => dialog.close() } })],
  });
  field.select();
  return dialog;
}
