// Offers: the brand's offers (brandOffers, by status, paged with its
// cursors), create with a target (tiers, badge, birthday this month,
// inactive days, listed members), publish and watch the publishing reach
// every targeted member live (the offerProgress subscription over the
// socket; offer(id){progress} read again every 0.7 s if the socket fails).
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql, subscribe } from '../api.js';
import { Field, ErrorBox, placed, Notice, More, usePaged, useAction, num, required, zonedTime, wallInput, fmtZoned, pct } from './ui.js';

const OFFER = 'id title body status startsAt endsAt holdoutPercent benefit { kind value } progress { processed notified total }';

// Results is the offer's uplift: members messaged against those held out.
function Results({ offer }) {
  const [r, setR] = useState(null);
  const act = useAction();
  const show = () => act.run(async () => {
    const today = new Date().toISOString().slice(0, 10);
    const from = offer.startsAt.slice(0, 10) < today ? offer.startsAt.slice(0, 10) : today;
    const d = await gql(`query($id: ID!, $r: AnalyticsRange!) { analytics { campaignResults(campaign: OFFER, offerId: $id, range: $r) {
      asOf verdict pending recipients { members purchasers purchaseRate } holdout { members purchasers purchaseRate } rateDifference { estimate low high } } } }`,
    { id: offer.id, r: { from, to: today } });
    setR(d.analytics.campaignResults);
  });
  const rate = (v) => (v == null ? '—' : (v * 100).toFixed(1) + '%');
  return html`<div class="results">
    <button type="button" class="secondary" onClick=${show} disabled=${act.busy}>${act.busy ? 'Reading…' : `Results of “${offer.title}”`}</button>
    ${r && html`<p role="status">${r.verdict}. Messaged: ${r.recipients.members} (${rate(r.recipients.purchaseRate)} bought); held out: ${r.holdout.members} (${rate(r.holdout.purchaseRate)} bought)${r.rateDifference ? `; difference ${rate(r.rateDifference.estimate)} (${rate(r.rateDifference.low)} to ${rate(r.rateDifference.high)})` : ''}${r.pending ? `; ${r.pending} still within the window` : ''}.</p>`}
    <${ErrorBox} error=${act.error} />
  </div>`;
}

function OfferRow({ initial, tz }) {
  const [offer, setOffer] = useState(initial);
  // The list read again (Refresh offers) brings the offer as it is now.
  useEffect(() => setOffer(initial), [initial]);
  const id = initial.id;
  const act = useAction();
  const [live, setLive] = useState(true);
  const load = () => act.run(async () => setOffer((await gql(`query($id: ID!) { offer(id: $id) { ${OFFER} } }`, { id })).offer));
  const publishing = offer?.status === 'PUBLISHING';
  // Live while PUBLISHING: the server sends each change and completes at PUBLISHED.
  useEffect(() => {
    if (!publishing || !live) return undefined;
    return subscribe(`subscription($id: ID!) { offerProgress(id: $id) { ${OFFER} } }`, { id },
      (d) => setOffer(d.offerProgress), () => setLive(false));
  }, [publishing, live]);
  // Polling, only if the socket failed.
  useEffect(() => {
    if (!publishing || live) return undefined;
    const t = setTimeout(load, 700);
    return () => clearTimeout(t);
  }, [offer, live]);
  // Progress only once publishing started: a draft has notified no one.
  const p = offer.status === 'DRAFT' ? null : offer.progress;
  const percent = p ? (p.total ? Math.round((100 * p.processed) / p.total) : 100) : 0;
  const publish = () => act.run(async () => setOffer((await gql(`mutation($id: ID!) { publishOffer(id: $id) { ${OFFER} } }`, { id })).publishOffer));
  return html`<li class="card offer" data-offer=${offer.id}>
    <h3>${offer.title}</h3><p>${offer.body}</p>
    <p class="muted">${offer.benefit.kind} ${offer.benefit.value} · ${fmtZoned(offer.startsAt, tz)} – ${fmtZoned(offer.endsAt, tz)} · holdout ${offer.holdoutPercent}% · <span class="status">${offer.status}</span></p>
    ${offer.status === 'DRAFT' && html`<button type="button" onClick=${publish} disabled=${act.busy}>Publish “${offer.title}”</button>`}
    ${p && html`<div class="progress"><label>Notifying members
        <progress max="100" value=${percent} aria-label=${'Publishing progress of ' + offer.title}>${percent}%</progress></label>
      <span class="percent" aria-live="polite">${percent}%</span> <small>${p.processed} of ${p.total} processed, ${p.notified} notified</small></div>`}
    ${publishing && !live && html`<p class="muted fallback">Live updates are unavailable: the offer is read every 0.7 s.</p>`}
    ${offer.status === 'PUBLISHED' && html`<${Results} offer=${offer} />`}
    <${ErrorBox} error=${act.error} />
  </li>`;
}

// target is the form's OfferTargetingInput, null when it sets none.
function target(f) {
  const t = {};
  const tiers = f.tiers.split(',').map((x) => x.trim()).filter(Boolean);
  if (tiers.length) t.tiers = tiers;
  if (f.badgeId) t.badgeId = f.badgeId;
  if (f.birthdayThisMonth) t.birthdayThisMonth = true;
  if (f.inactiveDays !== '') t.inactiveDays = num(f.inactiveDays, 'target.inactiveDays', 'Inactive for (days)');
  const ids = f.memberIds.split(/\s+/).filter(Boolean);
  if (ids.length) t.memberIds = ids;
  return Object.keys(t).length ? t : null;
}

const CAMPAIGNS = [['BIRTHDAY', 'Birthday'], ['WIN_BACK', 'Win-back'], ['POINTS_EXPIRING', 'Points expiring'], ['STREAK_AT_RISK', 'Streak at risk'], ['COUPON_EXPIRING', 'Coupon expiring']];
const day = (d) => d.toISOString().slice(0, 10);

// CampaignResults is the uplift of each triggered campaign against its
// holdout (analytics.campaignResults, one alias per campaign) for a range.
function CampaignResults() {
  const [from, setFrom] = useState(day(new Date(Date.now() - 30 * 864e5)));
  const [to, setTo] = useState(day(new Date()));
  const [within, setWithin] = useState('14');
  const [rows, setRows] = useState(null);
  const act = useAction();
  const show = (e) => {
    e.preventDefault();
    act.run(async () => {
      const fields = 'verdict pending recipients { members purchasers purchaseRate } holdout { members purchasers purchaseRate } rateDifference { estimate low high }';
      const d = await gql(`query($r: AnalyticsRange!, $w: Int!) { analytics { ${CAMPAIGNS.map(([c]) => `${c}: campaignResults(campaign: ${c}, range: $r, withinDays: $w) { ${fields} }`).join(' ')} } }`,
        { r: { from, to }, w: required(within, 'withinDays', 'Purchases within (days)') });
      setRows(CAMPAIGNS.map(([c, label]) => ({ label, ...d.analytics[c] })));
    });
  };
  const err = (k) => (act.error?.field?.replace(/^range\./, '') === k || act.error?.field === k ? act.error.message : null);
  return html`<section aria-labelledby="campaign-results"><h2 id="campaign-results">Results of the triggered campaigns</h2>
    <form onSubmit=${show} class="row" novalidate>
      <${Field} label="From" name="resultsFrom" type="date" value=${from} onInput=${setFrom} error=${err('from')} />
      <${Field} label="To" name="resultsTo" type="date" value=${to} onInput=${setTo} error=${err('to')} />
      <${Field} label="Purchases within (days)" name="withinDays" type="number" value=${within} onInput=${setWithin} error=${err('withinDays')} />
      <button type="submit" disabled=${act.busy}>${act.busy ? 'Reading…' : 'Show campaign results'}</button>
    </form>
    ${act.error && !['from', 'to', 'withinDays'].some(err) && html`<${ErrorBox} error=${act.error} />`}
    ${rows && html`<div class="table-wrap"><table><caption>Messaged members against those held out, by purchases within ${within} days of the send</caption>
      <thead><tr><th scope="col">Campaign</th><th scope="col">Messaged (bought)</th><th scope="col">Held out (bought)</th><th scope="col">Uplift</th><th scope="col">Pending</th><th scope="col">Verdict</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr><th scope="row">${r.label}</th>
        <td>${r.recipients.members} (${pct(r.recipients.purchaseRate)})</td><td>${r.holdout.members} (${pct(r.holdout.purchaseRate)})</td>
        <td>${r.rateDifference ? `${pct(r.rateDifference.estimate)} (${pct(r.rateDifference.low)} to ${pct(r.rateDifference.high)})` : '—'}</td>
        <td>${r.pending}</td><td>${r.verdict}</td></tr>`)}</tbody></table></div>`}
  </section>`;
}

const STATUSES = [{ value: '', label: 'Any status' }, 'DRAFT', 'PUBLISHING', 'PUBLISHED'];

export function Offers() {
  // Starts and Ends are wall times in the program's timezone (whatever the
  // browser's), read once; the list shows them in it, labelled.
  const [tz, setTz] = useState(null);
  const times = (zone) => { if (!zone) return { startsAt: '', endsAt: '' }; const now = new Date(); return { startsAt: wallInput(now, zone), endsAt: wallInput(new Date(now.getTime() + 14 * 864e5), zone) }; };
  const blank = { title: '', body: '', kind: 'BONUS_POINTS', value: '100', ...times(tz), holdoutPercent: '0',
    tiers: '', badgeId: '', birthdayThisMonth: false, inactiveDays: '', memberIds: '' };
  const [badges, setBadges] = useState([]);
  useEffect(() => { gql('{ badges { id name } }').then((d) => setBadges(d.badges)).catch(() => setBadges([])); }, []);
  const [form, setForm] = useState(blank);
  useEffect(() => { gql('{ program { timezone } }').then((d) => { setTz(d.program.timezone); setForm((f) => ({ ...f, startsAt: f.startsAt || times(d.program.timezone).startsAt, endsAt: f.endsAt || times(d.program.timezone).endsAt })); }, act.setError); }, []);
  const [status, setStatus] = useState('');
  const [done, setDone] = useState('');
  const act = useAction();
  const list = usePaged(async (after) => (await gql(`query($s: OfferStatus, $after: String) { brandOffers(status: $s, first: 10, after: $after) {
      edges { node { ${OFFER} } } pageInfo { hasNextPage endCursor } } }`, { s: status || null, after })).brandOffers, [status]);
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const create = (e) => {
    e.preventDefault();
    setDone('');
    act.run(async () => {
      const d = await gql(`mutation($in: OfferInput!) { createOffer(input: $in) { id title } }`, { in: {
        title: form.title, body: form.body, benefit: { kind: form.kind, value: required(form.value, 'benefit.value', 'Benefit value') },
        startsAt: zonedTime(form.startsAt, tz, 'startsAt', 'Starts'), endsAt: zonedTime(form.endsAt, tz, 'endsAt', 'Ends'), holdoutPercent: num(form.holdoutPercent, 'holdoutPercent', 'Holdout (%)'), target: target(form) } });
      setDone(`Created “${d.createOffer.title}” as a draft.`);
      setForm(blank);
      list.reload();
    });
  };
  const err = (k) => (act.error?.field?.replace(/^input\./, '') === k ? act.error.message : null);
  // A target's errors name an element (target.tiers[1]): shown at the field.
  const terr = (k) => (act.error?.field?.replace(/^input\./, '').replace(/\[\d+\]$/, '') === k ? act.error.message : null);
  const TARGETS = ['target.tiers', 'target.badgeId', 'target.inactiveDays', 'target.memberIds', 'target.members'];
  return html`<div class="page"><h1>Offers</h1>
    <section aria-labelledby="new-offer"><h2 id="new-offer">New offer</h2>
    <form onSubmit=${create} class="grid-form" novalidate>
      <${Field} label="Title" name="title" value=${form.title} onInput=${set('title')} error=${err('title')} />
      <${Field} label="Message" name="body" value=${form.body} onInput=${set('body')} error=${err('body')} />
      <${Field} label="Benefit" name="kind" value=${form.kind} onInput=${set('kind')} options=${['BONUS_POINTS', 'PERCENT_OFF', 'AMOUNT_OFF', 'POINTS_PRICE']} />
      <${Field} label="Benefit value" name="value" type="number" value=${form.value} onInput=${set('value')} error=${err('benefit.value')} />
      <${Field} label="Starts" name="startsAt" type="datetime-local" value=${form.startsAt} onInput=${set('startsAt')} error=${err('startsAt')} hint=${tz ? `In the program's timezone (${tz})` : "Reading the program's timezone…"} />
      <${Field} label="Ends" name="endsAt" type="datetime-local" value=${form.endsAt} onInput=${set('endsAt')} error=${err('endsAt')} hint=${tz ? `In the program's timezone (${tz})` : "Reading the program's timezone…"} />
      <${Field} label="Holdout (%)" name="holdoutPercent" type="number" value=${form.holdoutPercent} onInput=${set('holdoutPercent')} error=${err('holdoutPercent')} hint="Left empty: 0, every targeted member is sent the offer." />
      <fieldset class="target"><legend>Target (every condition given must hold; none means every member)</legend>
        <${Field} label="Tiers" name="tiers" value=${form.tiers} onInput=${set('tiers')} error=${terr('target.tiers')} hint="Tier names, separated by commas" />
        <${Field} label="Badge" name="badgeId" value=${form.badgeId} onInput=${set('badgeId')} error=${terr('target.badgeId')}
          options=${[{ value: '', label: 'Any badge' }, ...badges.map((b) => ({ value: b.id, label: b.name }))]} />
        <${Field} label="Birthday this month" name="birthdayThisMonth" type="checkbox" value=${form.birthdayThisMonth} onInput=${set('birthdayThisMonth')} />
        <${Field} label="Inactive for (days)" name="inactiveDays" type="number" value=${form.inactiveDays} onInput=${set('inactiveDays')} error=${terr('target.inactiveDays')} hint="No purchase in this many days" />
        <${Field} label="Members" name="memberIds" type="textarea" value=${form.memberIds} onInput=${set('memberIds')} error=${terr('target.memberIds') || terr('target.members')} hint="Member ids, one a line (from a member's profile)" />
      </fieldset>
      <div class="actions">${act.error && !placed(act.error, ['title', 'body', 'benefit.value', 'startsAt', 'endsAt', 'holdoutPercent']) && !TARGETS.some((k) => terr(k)) && html`<${ErrorBox} error=${act.error} />`}<${Notice}>${done}<//>
        <button type="submit" disabled=${act.busy || !tz}>${act.busy ? 'Creating…' : 'Create offer'}</button></div>
    </form></section>
    <section aria-labelledby="all-offers"><h2 id="all-offers">The brand's offers</h2>
    <div class="row"><${Field} label="Status" name="offerStatus" value=${status} onInput=${setStatus} options=${STATUSES} />
      <button type="button" class="secondary" onClick=${list.reload}>Refresh offers</button></div>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">No offer${status ? ' is ' + status : ' yet'}.</p>`}
    <ul class="cards">${list.items.map((o) => html`<${OfferRow} key=${o.id} initial=${o} tz=${tz} />`)}</ul>
    <${More} list=${list} label="More offers" /></section>
    <${CampaignResults} /></div>`;
}
