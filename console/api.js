// The console's client of the public API: the same /graphql endpoint and
// graphql-transport-ws socket as the app, with the signed-in staff
// member's own token. The access token lives in memory only; the refresh
// token in sessionStorage, so a reload of this tab stays signed in while
// closing the tab ends it (README, "Console").

const REFRESH_KEY = 'regulars.console.refreshToken';
let access = null; // {token, expiresAt (ms)}
let refreshing = null;
const listeners = new Set();

export let me = null;

export function onSession(f) { listeners.add(f); return () => listeners.delete(f); }
function changed() { for (const f of listeners) f(me); }

// ApiError carries the API's message, extensions.code and extensions.field.
export class ApiError extends Error {
  constructor(message, code, field, extensions) { super(message); this.code = code; this.field = field; this.extensions = extensions; }
}

const MEMBER = 'member { id email displayName roles }';
const AUTH = `accessToken accessTokenExpiresAt refreshToken ${MEMBER}`;

function keep(p) {
  access = { token: p.accessToken, expiresAt: Date.parse(p.accessTokenExpiresAt) };
  sessionStorage.setItem(REFRESH_KEY, p.refreshToken);
  me = p.member;
  changed();
}

async function post(query, variables, token) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (e) {
    throw new ApiError('The server cannot be reached: ' + e.message, 'NETWORK');
  }
  let body;
  try { body = await res.json(); } catch { throw new ApiError(`The server answered ${res.status} without GraphQL`, 'HTTP_' + res.status); }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    // data: what the API answered beside its errors (a nodes(ids) lookup
    // answers null for the ids not visible, and the others).
    throw Object.assign(new ApiError(e.message, e.extensions?.code, e.extensions?.field, e.extensions), { data: body.data });
  }
  return body.data;
}

export async function logIn(email, password) {
  const d = await post(`mutation($in: LogInInput!) { logIn(input: $in) { ${AUTH} } }`, { in: { email, password } });
  keep(d.logIn);
  return me;
}

// resume signs in again from this tab's refresh token, if it has one.
export async function resume() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return null;
  try { await refresh(); } catch { sessionStorage.removeItem(REFRESH_KEY); }
  return me;
}

function refresh() {
  if (!refreshing) {
    const rt = sessionStorage.getItem(REFRESH_KEY);
    refreshing = post(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: rt })
      .then((d) => keep(d.refreshToken), (e) => {
        // The session ended (expired, revoked, signed out elsewhere): back
        // to the sign-in form rather than pages that can only fail.
        if (e.code === 'UNAUTHENTICATED') ended();
        throw e;
      })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

// ended forgets the session in this tab: the app shows the sign-in form.
function ended() {
  sessionStorage.removeItem(REFRESH_KEY);
  access = null; me = null;
  changed();
}

export async function logOut() {
  const rt = sessionStorage.getItem(REFRESH_KEY);
  ended();
  if (rt) { try { await post(`mutation($t: String!) { logOut(refreshToken: $t) }`, { t: rt }); } catch { /* signed out here either way */ } }
}

async function token() {
  if (!access) throw new ApiError('Signed out', 'UNAUTHENTICATED');
  if (access.expiresAt - Date.now() < 30000) await refresh();
  return access.token;
}

// gql runs a query or mutation as the signed-in member; an expired token
// is refreshed once. Throws ApiError with the API's message.
export async function gql(query, variables = {}) {
  try {
    return await post(query, variables, await token());
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED' && sessionStorage.getItem(REFRESH_KEY)) {
      await refresh();
      return post(query, variables, access.token);
    }
    throw e;
  }
}

// download fetches a file route with the token and saves it.
export async function download(path, filename) {
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + await token() } });
  if (!res.ok) throw new ApiError((await res.text()).trim() || `HTTP ${res.status}`, 'HTTP_' + res.status);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url; a.download = filename;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// subscribe runs a subscription over graphql-transport-ws; onNext gets each
// payload's data, onError the API's message. A socket the server closes
// asking for a fresh token (roles changed, token expired: 4403) is opened
// again with a refreshed one, and one dropped (1006) again, a few times.
// onComplete, if given, is called when the server completes the
// subscription (the socket is then closed). Returns a function that stops it.
export function subscribe(query, variables, onNext, onError, onComplete) {
  let ws, stopped = false, retries = 3;
  const open = async () => {
    const auth = 'Bearer ' + await token();
    if (stopped) return;
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql', 'graphql-transport-ws');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: auth } }));
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      else if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      else if (msg.type === 'next') {
        if (msg.payload.errors?.length) onError?.(new ApiError(msg.payload.errors[0].message, msg.payload.errors[0].extensions?.code));
        else onNext(msg.payload.data);
      } else if (msg.type === 'complete') {
        stopped = true; ws.close(1000); onComplete?.();
      } else if (msg.type === 'error') onError?.(new ApiError(msg.payload?.[0]?.message || 'Subscription refused', msg.payload?.[0]?.extensions?.code));
    };
    ws.onclose = (e) => {
      if (stopped || e.code === 1000) return;
      if (e.code === 4403 && /fresh token/.test(e.reason) && retries-- > 0) {
        refresh().then(open).catch((err) => onError?.(err));
        return;
      }
      // A socket dropped without a close frame (1006) is opened again, once a second.
      if (e.code === 1006 && retries-- > 0) {
        setTimeout(() => open().catch((err) => onError?.(err)), 1000);
        return;
      }
      onError?.(new ApiError(`Live updates stopped (${e.code} ${e.reason})`, 'CLOSED'));
    };
  };
  open().catch((e) => onError?.(e));
  return () => { stopped = true; ws?.close(1000); };
}

export const hasRole = (r) => !!me?.roles.includes(r);
export const isStaff = () => hasRole('BRAND') || hasRole('MODERATOR');
