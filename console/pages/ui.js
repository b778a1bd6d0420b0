// Small building blocks shared by the pages.
import { html, useState, useEffect, useCallback, useRef } from '../vendor/htm-preact-standalone.mjs';

export { html };

let ids = 0;
const nextId = (p) => `${p}-${++ids}`;

// API_PATH is how the API's message names its field ("target.tiers[0]:
// unknown tier", the path of extensions.field): at the field, the field's
// label names it instead.
const API_PATH = /^(?:[A-Za-z_]\w*(?:\[\d+\])*)(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*: /;
export const atFieldMessage = (message, label) => (API_PATH.test(message) ? `${label}: ${message.replace(API_PATH, '')}` : message);

// Field is a labelled control; error, when given, is shown at the field
// (an API message with the field's label in place of its path) and tied
// to it with aria-describedby.
export function Field({ label, name, type = 'text', value, onInput, error: shown, hint, options, ...rest }) {
  const error = typeof shown === 'string' ? atFieldMessage(shown, label) : shown;
  const [id] = useState(() => nextId(name || 'f'));
  const errId = id + '-error';
  const common = { id, name, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': error ? errId : undefined, ...rest };
  let control;
  if (options) {
    control = html`<select ...${common} value=${value} onChange=${(e) => onInput(e.target.value)}>
      ${options.map((o) => html`<option value=${o.value ?? o}>${o.label ?? o}</option>`)}</select>`;
  } else if (type === 'checkbox') {
    control = html`<input type="checkbox" ...${common} checked=${!!value} onChange=${(e) => onInput(e.target.checked)} />`;
  } else if (type === 'textarea') {
    control = html`<textarea ...${common} value=${value ?? ''} onInput=${(e) => onInput(e.target.value)} />`;
  } else {
    control = html`<input type=${type} ...${common} value=${value ?? ''} onInput=${(e) => onInput(e.target.value)} />`;
  }
  return html`<div class=${'field' + (error ? ' has-error' : '')}>
    <label for=${id}>${label}</label>${control}
    ${hint && html`<small>${hint}</small>`}
    ${error && html`<p class="field-error" id=${errId} role="alert">${error}</p>`}
  </div>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message || String(error)}</p>`;
}

// Missing is the page shown for a route that leads nowhere: an unknown
// page or id ("Page not found"), or a page the signed-in role may not open
// (denied), with a link to the console's home page.
export function Missing({ denied }) {
  return html`<div><h1>${denied ? "You don't have access to this page" : 'Page not found'}</h1>
    <p>${denied ? 'This page is for another role: ask a brand administrator if you need it.' : 'Nothing is at this address: the link may be mistyped, or what it led to no longer exists.'}</p>
    <p><a href="#/">Go to the console's home page</a></p></div>`;
}

// notFound tells whether an error reading a page's one item by the id in
// its address means there is no such item (an id that is not one, or
// names nothing), rather than a failure to show as it is.
export const notFound = (error) => error?.code === 'NOT_FOUND' || (error?.code === 'BAD_USER_INPUT' && /^(id|threadId|memberId|eventId)$/.test(error.field ?? ''));

export function Notice({ children }) {
  return children ? html`<p class="notice" role="status">${children}</p>` : null;
}

// usePaged pages a connection forward with the API's cursors: fetch(after)
// returns {edges, pageInfo}. A new query (deps changed) starts with no rows
// (loading), so rows of the previous one are never shown under it; reload
// reads the same query again, keeping its rows until the answer. A failed
// read shows its error with no rows (a failed "Load more" keeps the pages
// read). Only the answer of the latest read is kept: one for a query no
// longer current, or superseded by a newer read, is dropped.
export function usePaged(fetch, deps) {
  const [state, set] = useState({ items: [], pageInfo: null, error: null, loading: true });
  const latest = useRef(null);
  const load = useCallback(async (after, append, fresh) => {
    const ticket = {};
    latest.current = ticket;
    set((s) => (fresh ? { items: [], pageInfo: null, error: null, loading: true } : { ...s, loading: true, error: null }));
    try {
      const c = await fetch(after);
      if (latest.current !== ticket) return;
      set((s) => ({ items: append ? [...s.items, ...c.edges.map((e) => e.node)] : c.edges.map((e) => e.node), pageInfo: c.pageInfo, error: null, loading: false }));
    } catch (error) {
      if (latest.current !== ticket) return;
      set((s) => (append ? { ...s, error, loading: false } : { items: [], pageInfo: null, error, loading: false }));
    }
  }, deps);
  useEffect(() => { load(null, false, true); return () => { latest.current = null; }; }, [load]);
  return { ...state, reload: () => load(null, false, false), more: () => load(state.pageInfo?.endCursor, true, false) };
}

export function More({ list, label = 'Load more' }) {
  return html`<div class="more"><${ErrorBox} error=${list.error} />
    ${list.loading && html`<p role="status" class="muted">Loading…</p>`}
    ${!list.loading && list.pageInfo?.hasNextPage && html`<button type="button" class="secondary" onClick=${list.more}>${label}</button>`}</div>`;
}

// useAction runs an async action, keeping its progress and error.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (f) => {
    setBusy(true); setError(null);
    try { return await f(); } catch (e) { setError(e); return undefined; } finally { setBusy(false); }
  };
  return { busy, error, run, setError };
}

// formError is an error found before sending, named as the API names the
// field, so the form shows it at the field (an empty value the API would
// only answer with "cannot be null" or a coercion message).
export const formError = (field, message) => Object.assign(new Error(message), { field, code: 'BAD_USER_INPUT' });

// MAX_INT is the largest value of the API's Int (a signed 32-bit integer).
export const MAX_INT = 2147483647;

// intProblem is why v (a form's text) is not an Int the API can take, or
// null: a fraction, an exponent (1e30) or a number beyond ±max would only
// get gqlgen's coercion message ("cannot use string as Int"), at no field.
export const intProblem = (v, label, max = MAX_INT) => {
  const s = String(v ?? '').trim();
  if (!/^[-+]?\d+$/.test(s) || Math.abs(Number(s)) > max) return `${label} must be a whole number between -${max} and ${max}.`;
  return null;
};

// num is a number field's value for an Int of the API: null when empty,
// else a whole number within ±max (-0 is 0), throwing a formError for
// field otherwise.
export const num = (v, field, label, max = MAX_INT) => {
  if (v === '' || v == null || String(v).trim() === '') return null;
  const problem = intProblem(v, label, max);
  if (problem) throw formError(field, problem);
  return Number(String(v).trim()) + 0;
};
// required is num(v), throwing a formError for field when v is empty.
export const required = (v, field, label, max = MAX_INT) => {
  if (v === '' || v == null || String(v).trim() === '') throw formError(field, `${label} is required.`);
  return num(v, field, label, max);
};
// isoTime is a datetime-local value as the API's time, throwing a
// formError for field when it is empty (new Date('') is "Invalid time value").
export const isoTime = (v, field, label) => {
  if (!v) throw formError(field, `${label} is required.`);
  return new Date(v).toISOString();
};
// programZone is the program's IANA timezone (programTimezone, read once
// at sign-in by app.js): fmtDate shows times in it, labelled, whatever the
// browser's zone, so every page and every person reads the same times.
let programZone = null;
export const setProgramZone = (tz) => { programZone = tz || null; };
export const fmtDate = (s) => (s ? (programZone ? fmtZoned(s, programZone) : new Date(s).toLocaleString()) : '—');

// wallClock reads an instant's wall time in an IANA zone (throws a
// RangeError for an unknown zone).
const wallClock = (tz) => new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
// zoneOffset is the zone's offset from UTC at the instant ms, in ms, from
// the browser's own zone data (daylight saving included).
const zoneOffset = (clock, ms) => {
  const p = {};
  for (const x of clock.formatToParts(new Date(ms))) p[x.type] = x.value;
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
};
// zonedTime is a datetime-local value read as wall time in the IANA zone
// tz (an event's timezone, not the browser's), as the API's time; a
// formError for field when it is empty, for tzField when tz is unknown.
// A wall time the zone skips (a spring-forward gap) comes out an hour off.
export const zonedTime = (v, tz, field, label, tzField = 'timezone') => {
  if (!v) throw formError(field, `${label} is required.`);
  let clock;
  try { clock = wallClock(tz || undefined); } catch { throw formError(tzField, `“${tz}” is not a timezone: give an IANA name such as Europe/Paris.`); }
  if (!tz) throw formError(tzField, 'Timezone is required.');
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v);
  if (!m) throw formError(field, `${label} is not a date and time.`);
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  const guess = wall - zoneOffset(clock, wall);
  return new Date(wall - zoneOffset(clock, guess)).toISOString();
};
// wallInput is the API's time s (or a Date) as a datetime-local value of
// wall time in the IANA zone tz: the inverse of zonedTime, to fill a form.
export const wallInput = (s, tz) => {
  const p = {};
  for (const x of wallClock(tz || 'UTC').formatToParts(new Date(s))) p[x.type] = x.value;
  const z = (v) => String(v).padStart(2, '0');
  return `${p.year}-${z(p.month)}-${z(p.day)}T${z(+p.hour % 24)}:${z(p.minute)}`;
};
// fmtZoned is the API's time s as wall time in the IANA zone tz, labelled
// with the zone, e.g. "Dec 4, 2026, 19:00 (America/New_York)".
export const fmtZoned = (s, tz) => {
  if (!s) return '—';
  try {
    return `${new Date(s).toLocaleString(undefined, { timeZone: tz, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' })} (${tz})`;
  } catch { return new Date(s).toLocaleString(); }
};
export const pct = (v) => (v == null ? '—' : (v * 100).toFixed(1) + '%');

// placed tells whether a form shows error at one of its fields (named as
// the API names them); if not, the form shows it in full.
export const placed = (error, names) => !!error?.field && names.includes(error.field.replace(/^input\./, ''));
