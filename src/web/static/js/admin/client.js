// The admin API with the staff member's token. The token lives in sessionStorage (this tab
// only); a 401 anywhere forgets it and sends the desk back to the sign-in form.
import { api, ApiError } from '../lib/api.js';

const KEY = 'citypeers.admin.token';
const listeners = new Set();
let memory = '';

export function getToken() {
  try { return sessionStorage.getItem(KEY) || ''; } catch (_) { return ''; }
}
export function setToken(token) {
  try { sessionStorage.setItem(KEY, token); } catch (_) { /* private mode: kept for this page only */ }
  memory = token;
}
export function clearToken() {
  try { sessionStorage.removeItem(KEY); } catch (_) { /* nothing stored */ }
  memory = '';
}
const token = () => getToken() || memory;

/** Called with 'expired' when the API answers 401. */
export const onSignedOut = (listener) => listeners.add(listener);

/** Like api(), with `Authorization: Bearer <token>`; `ifMatch` adds If-Match. */
export async function adminApi(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: 'Bearer ' + token() };
  if (options.ifMatch) headers['If-Match'] = options.ifMatch;
  try {
    return await api(path, { ...options, headers });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      clearToken();
      for (const listener of listeners) listener('expired');
    }
    throw error;
  }
}

/** Checks a token before keeping it: true when the API accepts it. */
export async function tryToken(candidate) {
  try {
    await api('/v1/admin/experts?limit=1', { headers: { Authorization: 'Bearer ' + candidate } });
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return false;
    throw error;
  }
}

export const kindPath = (kind, id) => `/v1/admin/${kind}` + (id ? '/' + encodeURIComponent(id) : '');
