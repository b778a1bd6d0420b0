// The console's client of the public API: the same /graphql endpoint and
// graphql-transport-ws socket as the app, with the signed-in staff
// member's own token. The access token lives in memory only; the refresh
// token in sessionStorage, so a reload of this tab stays signed in while
// closing the tab ends it (README, "Console").
//
// Tabs of one session (a duplicated tab copies sessionStorage, so the
// refresh token too) share their refreshes: a refresh runs under a Web
// Lock named by the session, so one tab at a time spends the refresh
// token, and the new pair goes to the session's other tabs over a
// BroadcastChannel. A refresh token is spent once: reusing a spent one
// would revoke the whole session (REFRESH_REUSE_GRACE), in every tab.

const REFRESH_KEY = 'regulars.console.refreshToken';
// SESSION_KEY (sessionStorage): {id, gen}, the session's random id (from
// logIn, copied with the tab) and the generation of this tab's pair.
const SESSION_KEY = 'regulars.console.session';
// genKey (localStorage, shared by the origin's tabs): the session's newest
// generation, a counter and no secret: a tab behind it asks for the pair.
const genKey = (id) => 'regulars.console.gen.' + id;
let access = null; // {token, expiresAt (ms)}
let pair = null; // the last pair, as the API answered it, for a tab that asks
let session = readSession();
let refreshing = null;
const listeners = new Set();
const waiting = new Set(); // resolves of tabs' asks for a newer pair
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('regulars.console.session') : null;

export let me = null;
// endNotice says why this tab was signed out without asking (the session
// expired or was ended elsewhere), for the sign-in form; '' otherwise.
export let endNotice = '';
const EXPIRED = 'Your session ended (it expired, or was signed out elsewhere): sign in again.';

export function onSession(f) { listeners.add(f); return () => listeners.delete(f); }
function changed() { for (const f of listeners) f(me); }

function readSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch { return null; }
}
const newestGen = () => Number(localStorage.getItem(genKey(session.id)) || 0);

// ApiError carries the API's message, extensions.code and extensions.field.
export class ApiError extends Error {
  constructor(message, code, field, extensions) { super(message); this.code = code; this.field = field; this.extensions = extensions; }
}

const MEMBER = 'member { id email displayName roles }';
const AUTH = `accessToken accessTokenExpiresAt refreshToken ${MEMBER}`;

// lifetime is how long p's access token lives from now, in ms: its exp
// less its iat, so its expiry is counted on this tab's clock from its
// arrival, whatever the skew between this clock and the server's (a clock
// ahead would otherwise renew the token at every call).
function lifetime(p) {
  try {
    const c = JSON.parse(atob(p.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (c.exp > c.iat) return (c.exp - c.iat) * 1000;
  } catch { /* not a JWT we can read: the server's expiry */ }
  return Date.parse(p.accessTokenExpiresAt) - Date.now();
}

// keep makes p this tab's pair at generation gen, its access token living
// left ms (by default its whole lifetime); shared tells the session's
// other tabs (a pair this tab obtained, not one it was sent).
function keep(p, gen, shared, left = lifetime(p)) {
  pair = p;
  access = { token: p.accessToken, expiresAt: Date.now() + left };
  session = { id: session.id, gen };
  sessionStorage.setItem(REFRESH_KEY, p.refreshToken);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  if (shared) {
    if (gen > newestGen()) localStorage.setItem(genKey(session.id), String(gen));
    channel?.postMessage({ type: 'pair', session: session.id, gen, pair: p, left });
  }
  hold();
  me = p.member;
  changed();
  for (const f of [...waiting]) f();
}

channel?.addEventListener('message', ({ data: m }) => {
  if (!session || m.session !== session.id) return;
  if (m.type === 'pair' && m.gen > session.gen) keep(m.pair, m.gen, false, m.left);
  else if (m.type === 'ask' && pair && session.gen > m.gen) channel.postMessage({ type: 'pair', session: session.id, gen: session.gen, pair, left: access.expiresAt - Date.now() });
  else if (m.type === 'ended') ended(false, 'You signed out in another tab.');
});

// holding: release of this tab's hold on its pair's generation. Each tab
// holds a shared Web Lock named by the session and the generation of the
// pair it has, for as long as it has it: a tab behind the session knows
// from these locks whether any open tab still has the newest pair.
let holding = null;
const pairLock = (gen) => `regulars.console.pair.${session.id}.${gen}`;
function hold() {
  holding?.();
  holding = null;
  if (!navigator.locks) return;
  let release;
  const held = new Promise((r) => { release = r; });
  holding = release;
  navigator.locks.request(pairLock(session.gen), { mode: 'shared' }, () => held).catch(() => {});
}

// catchUp brings this tab to the session's newest pair when another tab
// renewed it: it asks the session's tabs for it. If no open tab has it
// (the tab that renewed it was closed: no tab holds its lock, so an
// exclusive request for it is granted) the session cannot go on here
// without reusing a spent token: UNAUTHENTICATED, sign in again. Without
// Web Locks (not a secure context), a tab waits 5 s for an answer.
function catchUp() {
  const newest = newestGen();
  if (session.gen >= newest) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const closed = new AbortController();
    const gone = () => { waiting.delete(done); closed.abort(); reject(new ApiError('This session was renewed in a tab that is closed: sign in again.', 'UNAUTHENTICATED')); };
    function done() {
      if (!session) { waiting.delete(done); closed.abort(); reject(new ApiError('Signed out', 'UNAUTHENTICATED')); } // signed out meanwhile
      else if (session.gen >= newest) { waiting.delete(done); closed.abort(); resolve(); }
    }
    waiting.add(done);
    if (navigator.locks) navigator.locks.request(pairLock(newest), { signal: closed.signal }, () => { if (waiting.has(done)) gone(); }).catch(() => {});
    else setTimeout(() => { if (waiting.has(done)) gone(); }, 5000);
    channel?.postMessage({ type: 'ask', session: session.id, gen: session.gen });
  });
}

// locked runs f under the session's refresh lock (Web Locks), where the
// browser has them (a secure context: https or localhost).
const locked = (f) => (navigator.locks ? navigator.locks.request('regulars.console.refresh.' + session.id, f) : f());

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
  session = { id: crypto.randomUUID(), gen: 0 };
  endNotice = '';
  keep(d.logIn, 1, true);
  return me;
}

// resume signs in again from this tab's refresh token, if it has one (or
// from the pair of another tab of its session, renewed since it was copied).
export async function resume() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return null;
  if (!session?.id) session = { id: crypto.randomUUID(), gen: 0 };
  try { await refresh(); } catch (e) { ended(false, e.code === 'UNAUTHENTICATED' ? EXPIRED : `You were signed out: ${e.message}`); }
  return me;
}

// refresh renews this tab's pair, unless another tab of the session renewed
// it while this one waited for the lock (its access token then changed).
function refresh() {
  if (!session) return Promise.reject(new ApiError('Signed out', 'UNAUTHENTICATED'));
  if (!refreshing) {
    const seen = access?.token;
    refreshing = locked(async () => {
      if (!session) throw new ApiError('Signed out', 'UNAUTHENTICATED');
      await catchUp();
      if (access && access.token !== seen && access.expiresAt - Date.now() > 30000) return;
      const rt = sessionStorage.getItem(REFRESH_KEY);
      const d = await post(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: rt });
      if (!session) throw new ApiError('Signed out', 'UNAUTHENTICATED'); // signed out meanwhile
      keep(d.refreshToken, Math.max(session.gen, newestGen()) + 1, true);
    }).catch((e) => {
      // The session ended (expired, revoked, signed out elsewhere): back
      // to the sign-in form rather than pages that can only fail.
      if (e.code === 'UNAUTHENTICATED') ended(false, EXPIRED);
      throw e;
    }).finally(() => { refreshing = null; });
  }
  return refreshing;
}

// ended forgets the session in this tab: the app shows the sign-in form,
// with notice saying why when the member did not sign out here; shared
// tells the session's other tabs (signing out ends it in all).
function ended(shared, notice = '') {
  if (session) endNotice = notice;
  if (shared && session) {
    channel?.postMessage({ type: 'ended', session: session.id });
    localStorage.removeItem(genKey(session.id));
  }
  sessionStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem(SESSION_KEY);
  holding?.();
  holding = null;
  access = null; me = null; pair = null; session = null;
  for (const f of [...waiting]) f();
  changed();
}

export async function logOut() {
  const rt = sessionStorage.getItem(REFRESH_KEY);
  ended(true);
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
