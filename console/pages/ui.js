// Small building blocks shared by the pages.
import { html, useState, useEffect, useCallback } from '../vendor/htm-preact-standalone.mjs';

export { html };

let ids = 0;
const nextId = (p) => `${p}-${++ids}`;

// Field is a labelled control; error, when given, is shown at the field
// and tied to it with aria-describedby.
export function Field({ label, name, type = 'text', value, onInput, error, hint, options, ...rest }) {
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

export function Notice({ children }) {
  return children ? html`<p class="notice" role="status">${children}</p>` : null;
}

// usePaged pages a connection forward with the API's cursors: fetch(after)
// returns {edges, pageInfo}. reload starts over.
export function usePaged(fetch, deps) {
  const [state, set] = useState({ items: [], pageInfo: null, error: null, loading: true });
  const load = useCallback(async (after, append) => {
    set((s) => ({ ...s, loading: true, error: null }));
    try {
      const c = await fetch(after);
      set((s) => ({ items: append ? [...s.items, ...c.edges.map((e) => e.node)] : c.edges.map((e) => e.node), pageInfo: c.pageInfo, error: null, loading: false }));
    } catch (error) {
      set((s) => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => { load(null, false); }, [load]);
  return { ...state, reload: () => load(null, false), more: () => load(state.pageInfo?.endCursor, true) };
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

export const num = (v) => (v === '' || v == null ? null : Number(v));

// formError is an error found before sending, named as the API names the
// field, so the form shows it at the field (an empty value the API would
// only answer with "cannot be null" or a coercion message).
export const formError = (field, message) => Object.assign(new Error(message), { field, code: 'BAD_USER_INPUT' });
// required is num(v), throwing a formError for field when v is empty.
export const required = (v, field, label) => {
  if (v === '' || v == null) throw formError(field, `${label} is required.`);
  return Number(v);
};
// isoTime is a datetime-local value as the API's time, throwing a
// formError for field when it is empty (new Date('') is "Invalid time value").
export const isoTime = (v, field, label) => {
  if (!v) throw formError(field, `${label} is required.`);
  return new Date(v).toISOString();
};
export const fmtDate = (s) => (s ? new Date(s).toLocaleString() : '—');
export const pct = (v) => (v == null ? '—' : (v * 100).toFixed(1) + '%');

// placed tells whether a form shows error at one of its fields (named as
// the API names them); if not, the form shows it in full.
export const placed = (error, names) => !!error?.field && names.includes(error.field.replace(/^input\./, ''));
