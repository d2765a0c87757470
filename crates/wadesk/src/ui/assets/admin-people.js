// Admin: user accounts (add, disable/enable, reset password) and API tokens (create — shown
// once — and revoke).

import { field, fill, page, table, when } from './admin-ui.js';
import { api } from './api.js';
import { confirmDialog, openDialog, secretDialog } from './dialogs.js';
import { h, toast } from './dom.js';

function roleSelect() {
  return h('select', { class: 'select', name: 'role' }, h('option', { value: 'agent', text: 'Agent' }), h('option', { value: 'admin', text: 'Admin' }));
}

function small(label, onClick, danger = false, disabled = false) {
  return h('button', { type: 'button', class: ['button', 'small', danger && 'danger'], text: label, disabled, on: { click: onClick } });
}

// --- users --------------------------------------------------------------------------------

function resetPassword(user, done) {
  const password = h('input', { type: 'password', class: 'input', id: 'reset-password', minlength: '8', required: true, autocomplete: 'new-password' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'form' },
    h('label', { for: 'reset-password', text: `New password for ${user.username} (at least 8 characters)` }), password, error,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button primary', text: 'Set password' })));
  const dialog = openDialog({ title: 'Reset password', body: form });
  password.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.updateUser(user.id, { password: password.value });
      dialog.close();
      toast(`Password of ${user.username} changed.`);
      done();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

export function mountUsers(content, ctx) {
  const list = h('div', { class: 'users-list' });
  const username = h('input', { class: 'input', required: true, autocomplete: 'off', placeholder: 'ana' });
  const password = h('input', { class: 'input', type: 'password', required: true, minlength: '8', autocomplete: 'new-password' });
  const role = roleSelect();
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'inline-form add-user-form' },
    field('Username', username), field('Password', password, 'At least 8 characters'), field('Role', role),
    h('div', { class: 'field field-actions' }, h('button', { type: 'submit', class: 'button primary', text: 'Add user' })));
  content.replaceChildren(page('Users', 'People who sign in to the inbox. Agents answer chats; admins also see this area.',
    list, h('h2', { class: 'admin-subtitle', text: 'Add a user' }), form, error));

  const load = () => fill(list, () => api.users(), (r) => table([
    ['Username', (u) => h('strong', { text: u.username })],
    ['Role', (u) => {
      const select = roleSelect();
      select.value = u.role;
      select.disabled = u.id === ctx.me.id;
      select.setAttribute('aria-label', `Role of ${u.username}`);
      select.addEventListener('change', () => change(u, { role: select.value }, `${u.username} is now ${select.value === 'admin' ? 'an admin' : 'an agent'}.`));
      return select;
    }],
    ['Status', (u) => h('span', { class: ['pill', u.disabled ? 'pill-warn' : 'pill-ok'], text: u.disabled ? 'Disabled' : 'Active' })],
    ['Created', (u) => when(u.created_at)],
    ['', (u) => h('span', { class: 'row-actions' },
      u.disabled
        ? small('Enable', () => change(u, { disabled: false }, `${u.username} can sign in again.`))
        : small('Disable', () => disable(u), true, u.id === ctx.me.id),
      small('Reset password', () => resetPassword(u, load)))],
  ], r.users, { caption: 'Users', rowClass: (u) => (u.disabled ? 'muted' : null) }));

  async function change(user, patch, message) {
    try {
      await api.updateUser(user.id, patch);
      toast(message);
    } catch (e) {
      toast(e.message, 'error');
    }
    load();
  }

  async function disable(user) {
    if (await confirmDialog(`Disable ${user.username}? They are signed out and cannot sign in until enabled again.`, 'Disable', true)) {
      change(user, { disabled: true }, `${user.username} is disabled.`);
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      await api.createUser({ username: username.value.trim(), password: password.value, role: role.value });
      toast(`${username.value.trim()} added.`);
      form.reset();
      load();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  load();
}

// --- API tokens ---------------------------------------------------------------------------

export function mountTokens(content) {
  const list = h('div', { class: 'tokens-list' });
  const name = h('input', { class: 'input', required: true, maxlength: '100', placeholder: 'crm-integration', autocomplete: 'off' });
  const role = roleSelect();
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'inline-form create-token-form' },
    field('Name', name), field('Role', role),
    h('div', { class: 'field field-actions' }, h('button', { type: 'submit', class: 'button primary', text: 'Create token' })));
  content.replaceChildren(page('API tokens', 'Bearer tokens for integrations (Authorization: Bearer …). A token is shown once, when created; only its hash is stored.',
    list, h('h2', { class: 'admin-subtitle', text: 'Create a token' }), form, error));

  const load = () => fill(list, () => api.tokens(), (r) => table([
    ['Name', (t) => h('strong', { text: t.name })],
    ['Role', (t) => t.role],
    ['Created', (t) => when(t.created_at)],
    ['State', (t) => (t.revoked_at
      ? h('span', { class: 'pill pill-warn', title: new Date(t.revoked_at).toLocaleString(), text: 'Revoked' })
      : h('span', { class: 'pill pill-ok', text: 'Active' }))],
    ['', (t) => (t.revoked_at ? '' : small('Revoke', () => revoke(t), true))],
  ], r.tokens, { empty: 'No API tokens yet.', caption: 'API tokens', rowClass: (t) => (t.revoked_at ? 'muted' : null) }));

  async function revoke(t) {
    if (!(await confirmDialog(`Revoke “${t.name}”? Programs using it stop working at once.`, 'Revoke', true))) return;
    try {
      await api.revokeToken(t.id);
      toast(`Token ${t.name} revoked.`);
    } catch (e) {
      toast(e.message, 'error');
    }
    load();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      const created = await api.createToken({ name: name.value.trim(), role: role.value });
      form.reset();
      secretDialog(`Token “${created.name}”`, 'Copy it now: it is not shown again. Send it as Authorization: Bearer <token>.', created.token);
      load();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  load();
}
