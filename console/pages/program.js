// Program settings: the program as a form; the API's field error is shown
// at the field it names (extensions.field).
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql } from '../api.js';
import { Field, ErrorBox, Notice, useAction, num } from './ui.js';

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
const FIELDS = `version currency updatedAt ${NUMBERS.map((n) => n[0]).join(' ')}
  tiers { name threshold earnMultiplierPercent benefits }
  campaigns { holdoutPercent }`;

export function ProgramPage() {
  const [program, setProgram] = useState(null);
  const [form, setForm] = useState({});
  const [loadError, setLoadError] = useState(null);
  const [saved, setSaved] = useState('');
  const act = useAction();
  const fill = (p) => {
    setProgram(p);
    const f = { currency: p.currency, holdoutPercent: String(p.campaigns.holdoutPercent) };
    for (const [k] of NUMBERS) f[k] = String(p[k]);
    setForm(f);
  };
  useEffect(() => { gql(`{ program { ${FIELDS} } }`).then((d) => fill(d.program), setLoadError); }, []);
  if (loadError) return html`<${ErrorBox} error=${loadError} />`;
  if (!program) return html`<p role="status">Loading…</p>`;
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  // fieldError: the API's message when it names this field.
  const fieldError = (k) => {
    const f = act.error?.field?.replace(/^input\./, '');
    return f && (f === k || f === 'campaigns.' + k) ? act.error.message : null;
  };
  const save = (e) => {
    e.preventDefault();
    setSaved('');
    act.run(async () => {
      const input = { currency: form.currency, campaigns: { holdoutPercent: num(form.holdoutPercent) } };
      for (const [k] of NUMBERS) input[k] = num(form[k]);
      const d = await gql(`mutation($in: ProgramInput!, $v: Int) { updateProgram(input: $in, expectedVersion: $v) { ${FIELDS} } }`, { in: input, v: program.version || null });
      fill(d.updateProgram);
      setSaved(`Saved as version ${d.updateProgram.version}.`);
    });
  };
  const unplaced = act.error && !NUMBERS.some(([k]) => fieldError(k)) && !fieldError('currency') && !fieldError('holdoutPercent');
  return html`<div class="page"><h1>Program</h1>
    <p class="muted">Version ${program.version}. Each save is a new version; a save made on an older version is refused so no one overwrites a colleague unknowingly.</p>
    <form onSubmit=${save} class="grid-form" novalidate>
      <${Field} label="Currency (ISO 4217)" name="currency" value=${form.currency} onInput=${set('currency')} error=${fieldError('currency')} />
      ${NUMBERS.map(([k, label]) => html`<${Field} label=${label} name=${k} type="number" value=${form[k]} onInput=${set(k)} error=${fieldError(k)} />`)}
      <${Field} label="Campaign holdout (%)" name="holdoutPercent" type="number" value=${form.holdoutPercent} onInput=${set('holdoutPercent')} error=${fieldError('holdoutPercent')} />
      <div class="actions">
        ${unplaced && html`<${ErrorBox} error=${act.error} />`}
        <${Notice}>${saved}<//>
        <button type="submit" disabled=${act.busy}>${act.busy ? 'Saving…' : 'Save program'}</button>
      </div>
    </form>
    <h2>Tiers</h2>
    <table><thead><tr><th scope="col">Tier</th><th scope="col">Threshold</th><th scope="col">Earn multiplier</th><th scope="col">Benefits</th></tr></thead>
      <tbody>${program.tiers.map((t) => html`<tr><td>${t.name}</td><td>${t.threshold}</td><td>${t.earnMultiplierPercent}%</td><td>${t.benefits.join(', ')}</td></tr>`)}</tbody></table></div>`;
}
