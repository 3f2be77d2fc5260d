// Every call to /api/v1: the bearer token from sessionStorage on each, a problem+json answer
// turned into an ApiError that the page shows (title and detail), a 401 into the sign-in box.

const BASE = '/api/v1';
const TOKEN = 'ragline.console.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title + (problem.detail ? ': ' + problem.detail : ''));
    this.status = status;
    this.problem = problem;
  }
}

let unauthorized = () => {};

/** What to do when the API answers 401 (show the sign-in box). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN, value);
  else sessionStorage.removeItem(TOKEN);
}

/** A query string of the parameters that have a value. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/** Encodes one path segment (a name, a topic). */
export function seg(value) {
  return encodeURIComponent(String(value));
}

export async function call(method, path, body) {
  const headers = {Accept: 'application/json, application/problem+json'};
  const bearer = token();
  if (bearer) headers.Authorization = 'Bearer ' + bearer;
  const init = {method, headers};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, {title: 'The console server did not answer', detail: String(e.message ?? e)});
  }
  if (response.status === 401) {
    const problem = await problemOf(response);
    unauthorized(problem);
    throw new ApiError(401, problem);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return {
      title: body.title ?? response.statusText ?? 'Error',
      status: body.status ?? response.status,
      detail: body.detail ?? body.error ?? '',
      errors: body.errors ?? null,
    };
  } catch {
    return {title: response.status + ' ' + (response.statusText || 'Error'), status: response.status, detail: text.slice(0, 500)};
  }
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);
