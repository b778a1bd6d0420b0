// Members: search, a member's profile with the points ledger, tier,
// badges, streak, redemptions, events and community standing (each list
// paged with the API's cursors); adjust points with a reason; grant and
// revoke roles.
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql } from '../api.js';
import { Field, ErrorBox, Notice, More, Missing, notFound, usePaged, useAction, placed, required, fmtDate, fmtZoned } from './ui.js';

export function Members() {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const list = usePaged(async (after) => (await gql(`query($q: String, $after: String) { members(search: $q, first: 20, after: $after) {
      edges { node { id email displayName roles createdAt } } pageInfo { hasNextPage endCursor } } }`, { q: query || null, after })).members, [query]);
  return html`<div class="page"><h1>Members</h1>
    <form class="inline" role="search" onSubmit=${(e) => { e.preventDefault(); setQuery(search.trim()); }}>
      <${Field} label="Search by email, name or member id" name="search" type="search" value=${search} onInput=${setSearch}
        error=${placed(list.error, ['search']) ? list.error.message : null} />
      <button type="submit">Search</button>
    </form>
    <table><thead><tr><th scope="col">Member</th><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Joined</th></tr></thead>
    <tbody>${list.items.map((m) => html`<tr><td><a href=${'#/members/' + encodeURIComponent(m.id)}>${m.displayName}</a></td><td>${m.email}</td><td>${m.roles.join(', ')}</td><td>${fmtDate(m.createdAt)}</td></tr>`)}</tbody></table>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">No member matches.</p>`}
    <${More} list=${placed(list.error, ['search']) ? { ...list, error: null } : list} /></div>`;
}

const PROFILE = `id email displayName timezone roles createdAt
  points { balance available pending expiringSoon { amount at } }
  tier { current { name } next { name threshold } progress { basis value toNext qualifiedUntil } }
  streak { period current longest freezes atRisk }
  badges { earned { badge { name } level earnedAt } }`;

function Ledger({ id, version }) {
  const list = usePaged(async (after) => (await gql(`query($id: ID!, $after: String) { member(id: $id) { points { ledger(first: 20, after: $after) {
      edges { node { id type amount reason balanceAfter createdAt lines { rule points reason } source { kind } } } pageInfo { hasNextPage endCursor } } } } }`, { id, after })).member.points.ledger, [id, version]);
  return html`<section aria-labelledby="ledger"><h2 id="ledger">Points ledger</h2>
    <table><thead><tr><th scope="col">When</th><th scope="col">Type</th><th scope="col">Points</th><th scope="col">Balance</th><th scope="col">Why</th></tr></thead>
    <tbody>${list.items.map((e) => html`<tr><td>${fmtDate(e.createdAt)}</td><td>${e.type} <small>(${e.source.kind})</small></td><td class="num">${e.amount > 0 ? '+' : ''}${e.amount}</td><td class="num">${e.balanceAfter}</td>
      <td>${e.reason}${e.lines.length > 0 && html`<ul class="lines">${e.lines.map((l) => html`<li>${l.points > 0 ? '+' : ''}${l.points}: ${l.reason}</li>`)}</ul>`}</td></tr>`)}</tbody></table>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">No ledger entry yet.</p>`}
    <${More} list=${list} /></section>`;
}

function Redemptions({ id }) {
  const list = usePaged(async (after) => (await gql(`query($id: ID!, $after: String) { member(id: $id) { redemptions(first: 10, after: $after) {
      edges { node { id code cost status createdAt reward { name } } } pageInfo { hasNextPage endCursor } } } }`, { id, after })).member.redemptions, [id]);
  return html`<section aria-labelledby="redemptions"><h2 id="redemptions">Redemptions</h2>
    <table><thead><tr><th scope="col">When</th><th scope="col">Reward</th><th scope="col">Cost</th><th scope="col">Status</th><th scope="col">Code</th></tr></thead>
    <tbody>${list.items.map((r) => html`<tr><td>${fmtDate(r.createdAt)}</td><td>${r.reward.name}</td><td class="num">${r.cost}</td><td>${r.status}</td><td>${r.code}</td></tr>`)}</tbody></table>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">No redemption yet.</p>`}
    <${More} list=${list} label="More redemptions" /></section>`;
}

function Rsvps({ id }) {
  const list = usePaged(async (after) => (await gql(`query($id: ID!, $after: String) { member(id: $id) { rsvps(first: 10, after: $after) {
      edges { node { status guests checkedInAt createdAt event { id title startsAt timezone } } } pageInfo { hasNextPage endCursor } } } }`, { id, after })).member.rsvps, [id]);
  return html`<section aria-labelledby="rsvps"><h2 id="rsvps">Events</h2>
    <table><thead><tr><th scope="col">Event</th><th scope="col">Starts</th><th scope="col">Answer</th><th scope="col">Guests</th><th scope="col">Checked in</th></tr></thead>
    <tbody>${list.items.map((r) => html`<tr><td><a href=${'#/events/' + encodeURIComponent(r.event.id)}>${r.event.title}</a></td><td>${fmtZoned(r.event.startsAt, r.event.timezone)}</td><td>${r.status}</td><td class="num">${r.guests}</td><td>${fmtZoned(r.checkedInAt, r.event.timezone)}</td></tr>`)}</tbody></table>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">No answer to an event yet.</p>`}
    <${More} list=${list} label="More events" /></section>`;
}

const TRUST = ['new', 'member', 'regular', 'leader'];

function Standing({ id }) {
  const [st, setSt] = useState(null);
  const act = useAction();
  useEffect(() => { act.run(async () => setSt((await gql(`query($id: ID!) { member(id: $id) { communityStanding {
      trustLevel postsLast30Days hiddenRecently sanctions { kind until reason spaceId } } } }`, { id })).member.communityStanding)); }, [id]);
  return html`<section aria-labelledby="standing"><h2 id="standing">Community standing</h2>
    <${ErrorBox} error=${act.error} />
    ${st && html`<p class="standing">Trust level ${st.trustLevel} (${TRUST[st.trustLevel] || '?'}), ${st.postsLast30Days} post(s) in 30 days${st.hiddenRecently ? ', a post hidden recently' : ''}.</p>
      ${st.sanctions.length === 0 ? html`<p class="muted">No sanction in force.</p>`
        : html`<ul>${st.sanctions.map((x) => html`<li>${x.kind} until ${fmtDate(x.until)}${x.spaceId ? ' in one space' : ''}: ${x.reason}</li>`)}</ul>`}`}
  </section>`;
}

export function MemberProfile({ id }) {
  const [m, setM] = useState(null);
  const [version, setVersion] = useState(0);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [role, setRole] = useState('MODERATOR');
  const [done, setDone] = useState('');
  const load = useAction();
  const act = useAction();
  useEffect(() => { load.run(async () => setM((await gql(`query($id: ID!) { member(id: $id) { ${PROFILE} } }`, { id })).member)); }, [id, version]);
  if (!m && notFound(load.error)) return html`<${Missing} />`;
  if (!m) return html`<${ErrorBox} error=${load.error} />${load.busy && html`<p role="status">Loading…</p>`}`;
  const adjust = (e) => {
    e.preventDefault();
    setDone('');
    act.run(async () => {
      const d = await gql(`mutation($id: ID!, $a: Int!, $r: String!, $k: String!) { adjustPoints(memberId: $id, amount: $a, reason: $r, idempotencyKey: $k) { amount balanceAfter } }`,
        { id, a: required(amount, 'amount', 'Points'), r: reason, k: crypto.randomUUID() });
      setDone(`Adjusted by ${d.adjustPoints.amount}; balance now ${d.adjustPoints.balanceAfter}.`);
      setAmount(''); setReason(''); setVersion((v) => v + 1);
    });
  };
  const roleChange = (grant) => act.run(async () => {
    const f = grant ? 'grantRole' : 'revokeRole';
    await gql(`mutation($id: ID!, $r: Role!) { ${f}(memberId: $id, role: $r) { roles } }`, { id, r: role });
    setDone(`${grant ? 'Granted' : 'Revoked'} ${role}.`); setVersion((v) => v + 1);
  });
  const t = m.tier;
  return html`<div class="page"><p><a href="#/members">← Members</a></p>
    <h1>${m.displayName}</h1>
    <p class="muted">${m.email} · ${m.timezone} · joined ${fmtDate(m.createdAt)} · roles ${m.roles.join(', ')} · member id <code>${id}</code></p>
    <dl class="figures">
      <div><dt>Balance</dt><dd>${m.points.balance}</dd></div>
      <div><dt>Available</dt><dd>${m.points.available}</dd></div>
      <div><dt>Pending</dt><dd>${m.points.pending}</dd></div>
      <div><dt>Tier</dt><dd>${t.current.name}</dd></div>
      <div><dt>Streak</dt><dd>${m.streak.current} ${m.streak.period.toLowerCase()} (best ${m.streak.longest})</dd></div>
      <div><dt>Badges</dt><dd>${m.badges.earned.length}</dd></div>
    </dl>
    ${t.next && html`<p><label>Progress to ${t.next.name}: <progress max=${t.next.threshold} value=${Math.min(t.progress.value, t.next.threshold)}></progress></label> ${t.progress.toNext} to go (${t.progress.basis.toLowerCase().replace('_', ' ')})</p>`}
    ${m.badges.earned.length > 0 && html`<p>Badges: ${m.badges.earned.map((b) => `${b.badge.name} (${b.level})`).join(', ')}</p>`}
    <div class="two">
      <form onSubmit=${adjust} aria-labelledby="adjust"><h2 id="adjust">Adjust points</h2>
        <${Field} label="Points (negative to deduct)" name="amount" type="number" value=${amount} onInput=${setAmount} error=${act.error?.field === 'amount' ? act.error.message : null} />
        <${Field} label="Reason (the member sees it)" name="adjustReason" value=${reason} onInput=${setReason} error=${act.error?.field === 'reason' ? act.error.message : null} />
        <button type="submit" disabled=${act.busy}>Adjust points</button>
      </form>
      <div aria-labelledby="roles"><h2 id="roles">Roles</h2>
        <${Field} label="Role" name="role" value=${role} onInput=${setRole} options=${['MODERATOR', 'BRAND', 'STAFF']} />
        <div class="row"><button type="button" onClick=${() => roleChange(true)} disabled=${act.busy}>Grant role</button>
        <button type="button" class="secondary" onClick=${() => roleChange(false)} disabled=${act.busy}>Revoke role</button></div>
      </div>
    </div>
    ${!placed(act.error, ['amount', 'reason']) && html`<${ErrorBox} error=${act.error} />`}<${Notice}>${done}<//>
    <${Ledger} id=${id} version=${version} />
    <${Redemptions} id=${id} />
    <${Rsvps} id=${id} />
    <${Standing} id=${id} /></div>`;
}
