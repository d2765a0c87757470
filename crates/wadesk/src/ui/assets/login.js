// The sign-in screen.

import { api } from './api.js';
import { h } from './dom.js';

/** Renders the form into `root`; `onSignedIn(user)` runs after a successful login. */
export function showLogin(root, onSignedIn, notice = '') {
  const username = h('input', { class: 'input', id: 'login-username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { class: 'input', id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error login-error', role: 'alert', hidden: !notice, text: notice });
  const submit = h('button', { type: 'submit', class: 'button primary wide', text: 'Sign in' });
  const form = h('form', { class: 'form login-form', 'aria-labelledby': 'login-title' },
    h('label', { for: 'login-username', text: 'Username' }), username,
    h('label', { for: 'login-password', text: 'Password' }), password,
    error, submit);

  root.replaceChildren(h('main', { class: 'login' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' },
        h('img', { src: '/assets/icon.svg', alt: '', class: 'login-logo' }),
        h('h1', { id: 'login-title', text: 'wadesk' })),
      h('p', { class: 'hint', text: 'Sign in to the WhatsApp inbox.' }),
      form)));
  document.title = 'Sign in · wadesk';
  username.focus();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const { user } = await api.login(username.value.trim(), password.value);
      onSignedIn(user);
    } catch (err) {
      error.textContent = messageFor(err);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
}

function messageFor(err) {
  if (err.code === 'unauthorized') return 'Wrong username or password.';
  if (err.code === 'too_many_attempts') {
    const wait = Number(err.retryAfter);
    return wait > 0 ? `Too many failed attempts. Try again in ${wait} s.` : err.message;
  }
  return err.message;
}
