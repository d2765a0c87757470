// The JSON API under /api/v1: one function per call, errors as ApiError with the server's
// stable `code`. Requests use the session cookie; fetch adds Origin/Sec-Fetch-Site itself,
// which the server checks on every state-changing call.

/** An error answer (or no answer at all: status 0, code `network`). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let onUnauthorized = () => {};

/** Called when a request finds the session gone (401 outside the auth routes). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request(method, path, { body, params, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}${query(params)}`, init);
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check the connection and try again.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  const err = data?.error || {};
  const error = new ApiError(res.status, err.code || `http_${res.status}`,
    err.message || `The server answered ${res.status}.`, res.headers.get('Retry-After'));
  if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
  throw error;
}

const get = (path, params) => request('GET', path, { params });
const post = (path, body, headers) => request('POST', path, { body, headers });
const patch = (path, body) => request('PATCH', path, { body });
const del = (path) => request('DELETE', path);
const id = (v) => encodeURIComponent(v);

/** A random key for Idempotency-Key (works outside secure contexts too). */
export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export const api = {
  login: (username, password) => post('/auth/login', { username, password }),
  logout: () => post('/auth/logout'),
  me: () => get('/auth/me'),
  health: () => get('/health'),

  conversations: (params) => get('/conversations', params),
  conversation: (cid) => get(`/conversations/${id(cid)}`),
  updateConversation: (cid, change) => patch(`/conversations/${id(cid)}`, change),
  markRead: (cid) => post(`/conversations/${id(cid)}/read`),
  conversationMessages: (cid, before, limit = 50) =>
    get(`/conversations/${id(cid)}/messages`, { before, limit }),

  message: (mid) => get(`/messages/${id(mid)}`),
  messages: (params) => get('/messages', params),
  search: (q) => get('/search', { q }),
  /** Queues a message; `key` makes a repeated call return the first result. */
  send: (body, key) => post('/messages', body, { 'Idempotency-Key': key }),

  users: () => get('/users'),
  createUser: (user) => post('/users', user),
  updateUser: (uid, change) => patch(`/users/${id(uid)}`, change),
  tokens: () => get('/tokens'),
  createToken: (token) => post('/tokens', token),
  revokeToken: (tid) => del(`/tokens/${id(tid)}`),

  outbox: (state) => get('/outbox', { state, limit: 200 }),
  retry: (mid) => post(`/outbox/${id(mid)}/retry`),
  cancel: (mid) => del(`/outbox/${id(mid)}`),
  resume: () => post('/outbox/resume'),
  webhookEvents: (state) => get('/webhook-events', { state, limit: 100 }),
  reprocess: (eid) => post(`/webhook-events/${id(eid)}/reprocess`),
};
