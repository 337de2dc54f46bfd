// Talking to `rulebook serve`: JSON requests in the page's language, the bearer token when the
// service has tokens, problem details turned into errors the page can show, and JSON Lines
// answers read as they stream in.  Every request goes to the page's own origin.

import { lang, t } from "./i18n.js";

const TOKEN_KEY = "rulebook-workbench.token";

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch (_) {
    return "";
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) {
    /* not kept: asked again next time */
  }
}

/** An answer that is a problem detail (RFC 9457), or a failure to reach the server. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

function url(path, query = {}) {
  const u = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  if (!u.searchParams.has("lang")) u.searchParams.set("lang", lang());
  return u;
}

function headers(extra = {}) {
  const h = { "Accept-Language": lang(), ...extra };
  const tok = token();
  if (tok) h.Authorization = `Bearer ${tok}`;
  return h;
}

async function failure(resp) {
  let problem;
  try {
    problem = await resp.json();
  } catch (_) {
    problem = { title: `HTTP ${resp.status}`, detail: `HTTP ${resp.status} ${resp.statusText}` };
  }
  if (resp.status === 401) onUnauthorized(problem);
  return new ApiError(resp.status, problem);
}

async function send(method, path, { query, body, contentType, signal } = {}) {
  let resp;
  try {
    resp = await fetch(url(path, query), {
      method,
      headers: headers(body === undefined ? {} : { "Content-Type": contentType || "application/json" }),
      body: body === undefined ? undefined : contentType ? body : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, { title: t("error"), detail: String(e.message || e) });
  }
  if (!resp.ok) throw await failure(resp);
  return resp;
}

export async function getJSON(path, query, signal) {
  return (await send("GET", path, { query, signal })).json();
}

export async function postJSON(path, body, query, signal) {
  return (await send("POST", path, { query, body, signal })).json();
}

/**
 * POST a body and read the JSON Lines answer as it streams: ``onLine(object)`` for each line.
 * Resolves once the answer has ended.
 */
export async function postStream(path, body, { query, contentType, signal, onLine }) {
  const resp = await send("POST", path, { query, body, contentType, signal });
  const reader = resp.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  rest += decoder.decode();
  if (rest.trim()) onLine(JSON.parse(rest.trim()));
}

/** A rulebook id holds a slash and is written as it is in paths. */
export function rbPath(id) {
  return id
    .split("/")
    .map((part) => encodeURIComponent(part))
    .join("/");
}

/** The problem's words for the reader: its detail, then its help line. */
export function describe(err) {
  if (err instanceof ApiError) {
    const p = err.problem || {};
    return [p.detail || p.title || err.message, p.help].filter(Boolean).join("\n");
  }
  return String(err && err.message ? err.message : err);
}
