// The console's shell: sign-in, the role gate and the pages' routes
// (location.hash, so the server serves one index.html).
import { html, render, useState, useEffect, useRef } from './vendor/htm-preact-standalone.mjs';
import * as api from './api.js';
import { Field, ErrorBox, Notice, Missing, useAction, setProgramZone } from './pages/ui.js';
import { Dashboard } from './pages/dashboard.js';
import { Members, MemberProfile } from './pages/members.js';
import { ProgramPage } from './pages/program.js';
import { Rewards } from './pages/rewards.js';
import { Offers } from './pages/offers.js';
import { Events, EventDetail, Door } from './pages/events.js';
import { Moderation } from './pages/moderation.js';

// Each page: its hash, title, the roles that may open it (the API checks
// them again on every call) and its component.
const PAGES = [
  { path: 'dashboard', title: 'Dashboard', roles: ['BRAND'], page: Dashboard },
  { path: 'members', title: 'Members', roles: ['BRAND'], page: Members },
  { path: 'program', title: 'Program', roles: ['BRAND'], page: ProgramPage },
  { path: 'rewards', title: 'Rewards', roles: ['BRAND'], page: Rewards },
  { path: 'offers', title: 'Offers', roles: ['BRAND'], page: Offers },
  { path: 'events', title: 'Events', roles: ['BRAND'], page: Events },
  { path: 'door', title: 'Door check-in', roles: ['BRAND', 'STAFF'], page: Door },
  { path: 'moderation', title: 'Moderation', roles: ['BRAND', 'MODERATOR'], page: Moderation },
];
const STAFF_ROLES = ['BRAND', 'MODERATOR', 'STAFF'];

function parseHash() {
  const [path, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { path, arg: rest.map(decodeURIComponent).join('/') };
}

function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const act = useAction();
  const submit = (e) => { e.preventDefault(); act.run(() => api.logIn(email, password)); };
  return html`<main class="signin">
    <h1>Regulars console</h1>
    <p>For brand teams, moderators and door staff. Sign in with your Regulars account.</p>
    ${!act.error && html`<${Notice}>${api.endNotice}<//>`}
    <form onSubmit=${submit}>
      <${Field} label="Email" name="email" type="email" autocomplete="username" value=${email} onInput=${setEmail} required />
      <${Field} label="Password" name="password" type="password" autocomplete="current-password" value=${password} onInput=${setPassword} required />
      <${ErrorBox} error=${act.error} />
      <button type="submit" disabled=${act.busy}>${act.busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function NotStaff({ me }) {
  return html`<main class="signin">
    <h1>This console is for staff</h1>
    <p>You are signed in as ${me.displayName}, a member. The console is for brand teams, moderators and door staff; use the Regulars app instead.</p>
    <button type="button" onClick=${api.logOut}>Sign out</button>
  </main>`;
}

// focusHeading moves the focus to the page's heading (a screen reader then
// reads where the navigation led); false while the page has none yet.
function focusHeading() {
  const h = document.querySelector('#main h1');
  if (!h) return false;
  h.setAttribute('tabindex', '-1');
  h.focus();
  return true;
}

function Shell({ me, route }) {
  const pages = PAGES.filter((p) => p.roles.some((r) => me.roles.includes(r)));
  // The home page (#/) is the role's first page; an unknown page is not
  // found, one of another role's is denied (the API would refuse its calls).
  const current = route.path === '' ? pages[0] : pages.find((p) => p.path === route.path);
  const denied = !current && PAGES.some((p) => p.path === route.path);
  const profile = current?.path === 'members' && route.arg;
  const event = current?.path === 'events' && route.arg;
  const title = current ? current.title : denied ? 'No access' : 'Page not found';
  useEffect(() => { document.title = title + ' · Regulars console'; }, [title]);
  // After each in-app navigation (not the first page shown), the focus goes
  // to the new page's heading, once the page has rendered it.
  const navigated = useRef(false);
  useEffect(() => {
    if (!navigated.current) { navigated.current = true; return undefined; }
    if (focusHeading()) return undefined;
    const wait = new MutationObserver(() => { if (focusHeading()) wait.disconnect(); });
    wait.observe(document.getElementById('main'), { childList: true, subtree: true });
    return () => wait.disconnect();
  }, [route.path, route.arg]);
  // Each route gets a page of its own (keyed by the address): a change of
  // address drops the old page, its state and its pending reads, so the new
  // one starts empty (loading, no action to click) and never shows what
  // the previous address read, nor acts on one id while showing another.
  const key = route.path + '/' + route.arg;
  let body;
  if (!current) body = html`<${Missing} key=${key} denied=${denied} />`;
  else if (profile) body = html`<${MemberProfile} key=${key} id=${route.arg} />`;
  else if (event) body = html`<${EventDetail} key=${key} id=${route.arg} />`;
  else body = html`<${current.page} key=${key} arg=${route.arg} />`;
  return html`<div class="shell">
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); focusHeading(); }}>Skip to content</a>
    <header>
      <a class="brand" href="#/">Regulars console</a>
      <nav aria-label="Pages"><ul>
        ${pages.map((p) => html`<li><a href=${'#/' + p.path} aria-current=${p === current ? 'page' : undefined}>${p.title}</a></li>`)}
      </ul></nav>
      <div class="who"><span>${me.displayName} (${me.roles.filter((r) => r !== 'CUSTOMER').join(', ')})</span>
        <button type="button" class="secondary" onClick=${api.logOut}>Sign out</button></div>
    </header>
    <main id="main">${body}</main>
  </div>`;
}

function App() {
  const [me, setMe] = useState(api.me);
  const [ready, setReady] = useState(false);
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const off = api.onSession(setMe);
    api.resume().finally(() => setReady(true));
    const onHash = () => setRoute(parseHash());
    addEventListener('hashchange', onHash);
    return () => { off(); removeEventListener('hashchange', onHash); };
  }, []);
  // Times show in the program's timezone (fmtDate): read once per sign-in,
  // before the pages (BRAND and MODERATOR may read it); door STAFF, whose
  // pages show events in their own zone, and a failed read get the
  // browser's zone, named.
  const staff = !!me?.roles.some((r) => STAFF_ROLES.includes(r));
  const [zone, setZone] = useState(null);
  useEffect(() => {
    if (!staff) { setZone(null); return; }
    const use = (tz) => { setProgramZone(tz); setZone(tz); };
    const browser = () => use(Intl.DateTimeFormat().resolvedOptions().timeZone);
    if (!me.roles.some((r) => r === 'BRAND' || r === 'MODERATOR')) browser();
    else api.gql('{ programTimezone }').then((d) => use(d.programTimezone), browser);
  }, [staff, me?.id]);
  if (!ready) return html`<main><p role="status">Loading…</p></main>`;
  if (!me) return html`<${SignIn} />`;
  if (!staff) return html`<${NotStaff} me=${me} />`;
  if (!zone) return html`<main><p role="status">Loading…</p></main>`;
  return html`<${Shell} me=${me} route=${route} />`;
}

render(html`<${App} />`, document.getElementById('app'));
