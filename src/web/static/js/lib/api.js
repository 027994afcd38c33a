// The one way scripts talk to the API: JSON in and out, the page's language in Accept-Language,
// errors as ApiError {status, code, fields} (the API's {"error": {code, message, fields}}).
import { pageLang, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, error, retryAfter, body) {
    super((error && error.message) || ('HTTP ' + status));
    this.name = 'ApiError';
    this.status = status;
    this.code = error && error.code;
    this.fields = error && Array.isArray(error.fields) ? error.fields : [];
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

/**
 * Calls the API. `body` is sent as JSON unless it is a string/Blob (then `contentType` applies).
 * Resolves to {status, data, etag, headers}; rejects with ApiError (status 0: no connection)
 * or an AbortError.
 */
export async function api(path, options = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': pageLang(), ...(options.headers || {}) };
  const init = { method: options.method || 'GET', headers, signal: options.signal, credentials: 'same-origin' };
  if (options.body !== undefined) {
    const raw = typeof options.body === 'string' || options.body instanceof Blob;
    headers['Content-Type'] = options.contentType || 'application/json';
    init.body = raw ? options.body : JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(0, null, null, null);
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try { data = JSON.parse(text); } catch (_) { data = null; }
  }
  if (!response.ok) throw new ApiError(response.status, data && data.error, response.headers.get('Retry-After'), data);
  return { status: response.status, data, etag: response.headers.get('ETag'), headers: response.headers };
}

export const isAbort = (error) => Boolean(error && error.name === 'AbortError');

/** A sentence for the user about a failed call. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return t('common.failed', { status: '—', message: String((error && error.message) || error) });
  if (error.status === 0) return t('common.network');
  if (error.status === 503) return t('common.not_ready');
  if (error.status === 429) return t('common.too_many', { s: error.retryAfter || 60 });
  return t('common.failed', { status: error.status, message: error.message });
}
