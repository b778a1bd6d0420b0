// Program settings: the program as one form (numbers, escalation, tiers
// and what they count, referral rewards, promotions, triggered campaigns
// with their holdout), saved with
// updateProgram(expectedVersion); the API's field error is shown at the
// field it names (extensions.field, e.g. tiers[1].threshold).
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql } from '../api.js';
import { Field, ErrorBox, Notice, useAction, num, intProblem, zonedTime, wallInput, setProgramZone } from './ui.js';

const NUMBERS = [
  ['pointsPerUnit', 'Points per unit of currency'],
  ['firstPurchaseBonus', 'First purchase bonus (points)'],
  ['birthdayBonus', 'Birthday bonus (points)'],
  ['checkInPoints', 'Check-in points'],
  ['reviewPoints', 'Review points'],
  ['eventAttendancePoints', 'Event attendance points'],
  ['pointsExpireDays', 'Points expire after (days)'],
  ['returnWindowDays', 'Return window (days)'],
  ['tierWindowMonths', 'Tier qualification window (months)'],
  ['tierGraceDays', 'Tier grace (days)'],
  ['pointValueMinor', 'Point value (minor units, for liability)'],
  ['communityPostPoints', 'Community post points'],
  ['communityFlagThreshold', 'Community flag threshold'],
];
// The triggered campaigns: [switch, its number, labels].
const CAMPAIGNS = [
  ['birthday', 'birthdayHour', 'Birthday greeting', 'from the local hour (0–23)'],
  ['winBack', 'winBackDays', 'Win-back', 'after days without a purchase'],
  ['pointsExpiring', 'pointsExpiringDays', 'Points expiring', 'days ahead'],
  ['streakAtRisk', null, 'Streak at risk', null],
  ['couponExpiring', 'couponExpiringHours', 'Coupon expiring', 'hours ahead'],
];
// The referral rules: [field, label]; the API names its errors
// referral.<field>.
const REFERRAL = [
  ['referrerPoints', 'Referrer reward (points)'],
  ['refereePoints', 'Referee reward (points)'],
  ['minPurchaseMinor', 'Qualifying purchase at least (minor units)'],
  ['monthlyCap', 'Rewarded referrals per referrer a month (0: no cap)'],
  ['reversalWindowDays', 'Reversed if refunded within (days)'],
];
const TIER_BASES = [{ value: 'POINTS_EARNED', label: 'Points earned in the window' }, { value: 'SPEND', label: 'Money spent in the window (minor units)' }];
const CAMPAIGN_FIELDS = CAMPAIGNS.flatMap(([on, n]) => (n ? [on, n] : [on])).join(' ');
const FIELDS = `version currency timezone updatedAt ${NUMBERS.map((n) => n[0]).join(' ')} escalation
  tierBasis tiers { name threshold earnMultiplierPercent benefits }
  referral { ${REFERRAL.map((r) => r[0]).join(' ')} }
  promotions { id name bonusPoints startsAt endsAt expiresAfterDays }
  campaigns { ${CAMPAIGN_FIELDS} holdoutPercent }`;

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function fromProgram(p) {
  const f = { currency: p.currency, escalation: p.escalation.join(', '), holdoutPercent: String(p.campaigns.holdoutPercent) };
  for (const [k] of NUMBERS) f[k] = String(p[k]);
  f.tierBasis = p.tierBasis;
  for (const [k] of REFERRAL) f['referral.' + k] = String(p.referral[k]);
  for (const [on, n] of CAMPAIGNS) { f[on] = p.campaigns[on]; if (n) f[n] = String(p.campaigns[n]); }
  f.tiers = p.tiers.map((t) => ({ name: t.name, threshold: String(t.threshold), earnMultiplierPercent: String(t.earnMultiplierPercent), benefits: t.benefits.join(', ') }));
  // Promotions' times are wall times in the program's timezone, whatever the browser's.
  f.timezone = p.timezone;
  f.promotions = p.promotions.map((x) => ({ id: x.id, name: x.name, bonusPoints: String(x.bonusPoints), startsAt: wallInput(x.startsAt, p.timezone), endsAt: wallInput(x.endsAt, p.timezone), expiresAfterDays: String(x.expiresAfterDays) }));
  return f;
}

function toInput(f) {
  const campaigns = { holdoutPercent: num(f.holdoutPercent) };
  for (const [on, n] of CAMPAIGNS) { campaigns[on] = !!f[on]; if (n) campaigns[n] = num(f[n]); }
  const input = {
    currency: f.currency, campaigns, tierBasis: f.tierBasis,
    referral: Object.fromEntries(REFERRAL.map(([k]) => [k, num(f['referral.' + k])])),
    escalation: list(f.escalation).map(Number),
    tiers: f.tiers.map((t) => ({ name: t.name, threshold: num(t.threshold), earnMultiplierPercent: num(t.earnMultiplierPercent), benefits: list(t.benefits) })),
    promotions: f.promotions.map((x, i) => ({ id: x.id, name: x.name, bonusPoints: num(x.bonusPoints),
      startsAt: x.startsAt ? zonedTime(x.startsAt, f.timezone, `promotions[${i}].startsAt`, `Promotion ${i + 1} starts`) : null,
      endsAt: x.endsAt ? zonedTime(x.endsAt, f.timezone, `promotions[${i}].endsAt`, `Promotion ${i + 1} ends`) : null, expiresAfterDays: num(x.expiresAfterDays) })),
  };
  for (const [k] of NUMBERS) input[k] = num(f[k]);
  return input;
}

// invalid is the form's first error found before sending (the API would
// keep a number left empty unchanged, and could only reject an escalation
// that is not whole numbers as a whole): {field, message} named as the API
// names fields, shown at the field; null when none.
function invalid(f) {
  const required = [...NUMBERS.map(([k, label]) => [k, k, label]), ...REFERRAL.map(([k, label]) => ['referral.' + k, 'referral.' + k, label]),
    ...CAMPAIGNS.filter(([, n]) => n).map(([, n, label, unit]) => [n, 'campaigns.' + n, `${label}: ${unit}`]), ['holdoutPercent', 'campaigns.holdoutPercent', 'Campaign holdout (%)']];
  const rows = [
    ...(f.tiers || []).flatMap((t, i) => [[t.threshold, `tiers[${i}].threshold`, `Tier ${i + 1} threshold`], [t.earnMultiplierPercent, `tiers[${i}].earnMultiplierPercent`, `Tier ${i + 1} earn multiplier (%)`]]),
    ...(f.promotions || []).flatMap((x, i) => [[x.bonusPoints, `promotions[${i}].bonusPoints`, `Promotion ${i + 1} bonus points`], [x.expiresAfterDays, `promotions[${i}].expiresAfterDays`, `Promotion ${i + 1} bonus expires after (days)`]]),
  ];
  const dates = (f.promotions || []).flatMap((x, i) => [[x.startsAt, `promotions[${i}].startsAt`, `Promotion ${i + 1} starts`], [x.endsAt, `promotions[${i}].endsAt`, `Promotion ${i + 1} ends`]]);
  for (const [v, field, label] of [...required.map(([k, field, label]) => [f[k], field, label]), ...rows, ...dates]) {
    if (String(v ?? '').trim() === '') return { field, message: `${label} is required.` };
  }
  // Whole numbers the API's Int can hold; the API says which range each
  // field allows (a bigger one only gets a coercion message, at no field).
  for (const [v, field, label] of [...required.map(([k, field, label]) => [f[k], field, label]), ...rows]) {
    const problem = intProblem(v, label);
    if (problem) return { field, message: problem };
  }
  const bad = list(f.escalation).find((x) => !/^\d+$/.test(x));
  if (bad !== undefined) return { field: 'escalation', message: `“${bad}” is not a whole number: give whole multipliers separated by commas, e.g. 2, 3.` };
  return null;
}

export function ProgramPage() {
  const [program, setProgram] = useState(null);
  const [form, setForm] = useState({});
  const [loadError, setLoadError] = useState(null);
  const [saved, setSaved] = useState('');
  const act = useAction();
  const fill = (p) => { setProgram(p); setForm(fromProgram(p)); };
  useEffect(() => { gql(`{ program { ${FIELDS} } }`).then((d) => fill(d.program), setLoadError); }, []);
  // After a conflict: the program as it is now replaces the form (and the
  // version the next save is made on).
  const reread = () => { setSaved(''); act.run(async () => fill((await gql(`{ program { ${FIELDS} } }`)).program)); };
  if (loadError) return html`<${ErrorBox} error=${loadError} />`;
  if (!program) return html`<p role="status">Loading…</p>`;
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const setRow = (listName, i, k) => (v) => setForm({ ...form, [listName]: form[listName].map((r, j) => (j === i ? { ...r, [k]: v } : r)) });
  const addRow = (listName, row) => setForm({ ...form, [listName]: [...form[listName], row] });
  const dropRow = (listName, i) => setForm({ ...form, [listName]: form[listName].filter((_, j) => j !== i) });
  // The field the API's error names, without "input."; campaigns' fields
  // are named "campaigns.x".
  const named = act.error?.field?.replace(/^input\./, '') || null;
  const shown = new Set();
  // fieldError: the API's message when it names this field (or, with
  // prefix, one inside it, e.g. escalation[1] at the escalation field).
  const fieldError = (k, prefix) => {
    if (!named || !(named === k || (prefix && named.startsWith(k + '[')) || (prefix && named.startsWith(k + '.')))) return null;
    shown.add(k);
    return act.error.message;
  };
  const save = (e) => {
    e.preventDefault();
    setSaved('');
    const bad = invalid(form);
    if (bad) { act.setError(bad); return; }
    act.run(async () => {
      const d = await gql(`mutation($in: ProgramInput!, $v: Int) { updateProgram(input: $in, expectedVersion: $v) { ${FIELDS} } }`, { in: toInput(form), v: program.version ?? 0 });
      fill(d.updateProgram);
      setProgramZone(d.updateProgram.timezone || 'UTC'); // the console's times follow a new timezone
      setSaved(`Saved as version ${d.updateProgram.version}.`);
    });
  };
  const body = html`
    <fieldset><legend>Earning</legend><div class="grid-form">
      <${Field} label="Currency (ISO 4217)" name="currency" value=${form.currency} onInput=${set('currency')} error=${fieldError('currency')} />
      ${NUMBERS.map(([k, label]) => html`<${Field} label=${label} name=${k} type="number" value=${form[k]} onInput=${set(k)} error=${fieldError(k)} />`)}
      <${Field} label="Escalation (multipliers of the 2nd, 3rd… purchase, comma-separated)" name="escalation" value=${form.escalation} onInput=${set('escalation')} error=${fieldError('escalation', true)} />
    </div></fieldset>

    <fieldset class="rows"><legend>Tiers</legend>
      <p class="muted">Ascending thresholds; the first is 0. Benefits are identifiers, comma-separated.</p>
      <${Field} label="Tiers count" name="tierBasis" value=${form.tierBasis} onInput=${set('tierBasis')} options=${TIER_BASES} error=${fieldError('tierBasis')}
        hint="over the tier qualification window; thresholds are in the same unit" />
      ${fieldError('tiers') && html`<p class="field-error" role="alert">${act.error.message}</p>`}
      ${form.tiers.map((t, i) => html`<div class="row tier" data-tier=${i}>
        <${Field} label=${`Tier ${i + 1} name`} name="tierName" value=${t.name} onInput=${setRow('tiers', i, 'name')} error=${fieldError(`tiers[${i}].name`)} />
        <${Field} label=${`Tier ${i + 1} threshold`} name="tierThreshold" type="number" value=${t.threshold} onInput=${setRow('tiers', i, 'threshold')} error=${fieldError(`tiers[${i}].threshold`)} />
        <${Field} label=${`Tier ${i + 1} earn multiplier (%)`} name="tierMultiplier" type="number" value=${t.earnMultiplierPercent} onInput=${setRow('tiers', i, 'earnMultiplierPercent')} error=${fieldError(`tiers[${i}].earnMultiplierPercent`)} />
        <${Field} label=${`Tier ${i + 1} benefits`} name="tierBenefits" value=${t.benefits} onInput=${setRow('tiers', i, 'benefits')} error=${fieldError(`tiers[${i}].benefits`, true)} />
        <button type="button" class="secondary" onClick=${() => dropRow('tiers', i)}>Remove tier ${i + 1}</button>
      </div>`)}
      <button type="button" class="secondary" onClick=${() => addRow('tiers', { name: '', threshold: '', earnMultiplierPercent: '100', benefits: '' })}>Add a tier</button>
    </fieldset>

    <fieldset><legend>Referrals</legend>
      <p class="muted">Both members are rewarded at the referee's first qualifying purchase; a refund within the window takes the rewards back.</p>
      <div class="grid-form">
      ${REFERRAL.map(([k, label]) => html`<${Field} label=${label} name=${'referral.' + k} type="number" value=${form['referral.' + k]} onInput=${set('referral.' + k)} error=${fieldError('referral.' + k)} />`)}
      </div>
    </fieldset>

    <fieldset class="rows"><legend>Promotions</legend>
      <p class="muted">Bonus points for purchases in a date range; each bonus expires after its days.</p>
      ${form.promotions.map((x, i) => html`<div class="row promotion" data-promotion=${i}>
        <${Field} label=${`Promotion ${i + 1} id`} name="promoId" value=${x.id} onInput=${setRow('promotions', i, 'id')} error=${fieldError(`promotions[${i}].id`)} />
        <${Field} label=${`Promotion ${i + 1} name`} name="promoName" value=${x.name} onInput=${setRow('promotions', i, 'name')} error=${fieldError(`promotions[${i}].name`)} />
        <${Field} label=${`Promotion ${i + 1} bonus points`} name="promoBonus" type="number" value=${x.bonusPoints} onInput=${setRow('promotions', i, 'bonusPoints')} error=${fieldError(`promotions[${i}].bonusPoints`)} />
        <${Field} label=${`Promotion ${i + 1} starts`} name="promoStarts" type="datetime-local" value=${x.startsAt} onInput=${setRow('promotions', i, 'startsAt')} error=${fieldError(`promotions[${i}].startsAt`)} hint=${`In the program's timezone (${form.timezone})`} />
        <${Field} label=${`Promotion ${i + 1} ends`} name="promoEnds" type="datetime-local" value=${x.endsAt} onInput=${setRow('promotions', i, 'endsAt')} error=${fieldError(`promotions[${i}].endsAt`)} hint=${`In the program's timezone (${form.timezone})`} />
        <${Field} label=${`Promotion ${i + 1} bonus expires after (days)`} name="promoExpires" type="number" value=${x.expiresAfterDays} onInput=${setRow('promotions', i, 'expiresAfterDays')} error=${fieldError(`promotions[${i}].expiresAfterDays`)} />
        <button type="button" class="secondary" onClick=${() => dropRow('promotions', i)}>Remove promotion ${i + 1}</button>
      </div>`)}
      ${fieldError('promotions') && html`<p class="field-error" role="alert">${act.error.message}</p>`}
      <button type="button" class="secondary" onClick=${() => addRow('promotions', { id: '', name: '', bonusPoints: '100', startsAt: wallInput(new Date(), form.timezone), endsAt: wallInput(new Date(Date.now() + 7 * 864e5), form.timezone), expiresAfterDays: '30' })}>Add a promotion</button>
    </fieldset>

    <fieldset><legend>Triggered campaigns</legend>
      <p class="muted">Each campaign holds out a share of members (sends them nothing) to measure its uplift (Dashboard, campaign results).</p>
      <div class="grid-form">
      ${CAMPAIGNS.map(([on, n, label, unit]) => html`<div class="campaign">
        <${Field} label=${label} name=${on} type="checkbox" value=${form[on]} onInput=${set(on)} error=${fieldError('campaigns.' + on)} />
        ${n && html`<${Field} label=${`${label}: ${unit}`} name=${n} type="number" value=${form[n]} onInput=${set(n)} error=${fieldError('campaigns.' + n)} />`}</div>`)}
      <${Field} label="Campaign holdout (%)" name="holdoutPercent" type="number" value=${form.holdoutPercent} onInput=${set('holdoutPercent')} error=${fieldError('campaigns.holdoutPercent') || fieldError('holdoutPercent')} />
      </div>
    </fieldset>`;
  const unplaced = act.error && shown.size === 0;
  return html`<div class="page"><h1>Program</h1>
    <p class="muted">Version ${program.version}. Each save is a new version; a save made on an older version is refused so no one overwrites a colleague unknowingly.</p>
    <form onSubmit=${save} novalidate>
      ${body}
      <div class="actions">
        ${unplaced && html`<${ErrorBox} error=${act.error} />`}
        ${act.error?.code === 'CONFLICT' && html`<button type="button" class="secondary" onClick=${reread} disabled=${act.busy}>Read the program again</button>`}
        <${Notice}>${saved}<//>
        <button type="submit" disabled=${act.busy}>${act.busy ? 'Saving…' : 'Save program'}</button>
      </div>
    </form></div>`;
}
