// Dashboard: the analytics figures for a range and timezone, a few charts
// drawn as SVG, and the CSV exports (/analytics/export/<table>.csv).
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql, download } from '../api.js';
import { Field, ErrorBox, useAction, pct, fmtDate } from './ui.js';

const day = (d) => d.toISOString().slice(0, 10);
const money = (minor, cur) => (minor == null ? '—' : (minor / 100).toLocaleString(undefined, { maximumFractionDigits: 2 }) + ' ' + (cur || ''));

// Bars is a labelled bar chart: values in [0, max], one bar each.
function Bars({ title, labels, values, format = String }) {
  const max = Math.max(1e-9, ...values.map((v) => v ?? 0));
  const w = 70, h = 120;
  return html`<figure class="chart"><figcaption>${title}</figcaption>
    <svg viewBox=${`0 0 ${labels.length * w + 10} ${h + 30}`} role="img" aria-label=${title + ': ' + labels.map((l, i) => `${l} ${format(values[i])}`).join(', ')}>
      ${values.map((v, i) => { const bh = ((v ?? 0) / max) * h; return html`<g>
        <rect x=${i * w + 8} y=${h - bh + 4} width=${w - 10} height=${bh} class="bar"><title>${labels[i]}: ${format(v)}</title></rect>
        <text x=${i * w + 8 + (w - 10) / 2} y=${h + 20} text-anchor="middle">${labels[i]}</text></g>`; })}
    </svg></figure>`;
}

function Heatmap({ cohorts }) {
  if (!cohorts.length) return html`<p class="muted">No cohort in this range yet.</p>`;
  const n = Math.max(...cohorts.map((c) => c.rates.length));
  return html`<table class="heatmap"><caption>Cohort retention (share of each month's cohort purchasing in later months)</caption>
    <thead><tr><th scope="col">Cohort</th><th scope="col">Size</th>${Array.from({ length: n }, (_, i) => html`<th scope="col">M${i}</th>`)}</tr></thead>
    <tbody>${cohorts.map((c) => html`<tr><th scope="row">${c.month.slice(0, 7)}</th><td>${c.size}</td>
      ${Array.from({ length: n }, (_, i) => { const r = c.rates[i]; return html`<td style=${r == null ? undefined : { '--v': Math.round(r * 100) }} class=${r == null ? '' : 'heat'}>${r == null ? '' : pct(r)}</td>`; })}</tr>`)}</tbody></table>`;
}

export function Dashboard() {
  const today = new Date();
  const [from, setFrom] = useState(day(new Date(today.getTime() - 180 * 864e5)));
  const [to, setTo] = useState(day(today));
  // The program's timezone, the one the rollups are kept in (the API
  // refuses another): read first, then the figures in it.
  const [tz, setTz] = useState('');
  const [data, setData] = useState(null);
  const act = useAction();
  const exp = useAction();
  const load = (zone = tz) => act.run(async () => {
    const d = await gql(`query($r: AnalyticsRange!) { analytics {
      overview(range: $r) { asOf purchases purchasingMembers repeatPurchaseRate newCustomers customers currencies { currency purchases revenueMinor aovMinor } }
      retention(range: $r, period: MONTH) { periods { from rate activeCustomers } }
      cohorts(range: $r) { cohorts { month size rates } }
      economics(range: $r) { issued redeemed expired outstandingAtEnd liabilityMinor currency breakageRate redemptionRate }
    } }`, { r: { from, to, timezone: zone } });
    setData(d.analytics);
  });
  useEffect(() => {
    gql(`{ program { timezone } }`).then((d) => { setTz(d.program.timezone); load(d.program.timezone); }, act.setError);
  }, []);
  const csv = (table) => exp.run(() => download(`/analytics/export/${table}.csv?` + new URLSearchParams({ from, to, timezone: tz }), `${table}-${from}-${to}.csv`));
  const o = data?.overview, e = data?.economics;
  // An error of one field shows at that field, from the figures or an export.
  const err = (k) => [act.error, exp.error].map((x) => (x?.field?.replace(/^range\./, '') === k ? x.message : null)).find(Boolean) || null;
  const atField = (x) => !!x?.field && ['from', 'to', 'timezone'].includes(x.field.replace(/^range\./, ''));
  return html`<div class="page"><h1>Dashboard</h1>
    <form class="inline" onSubmit=${(ev) => { ev.preventDefault(); load(); }}>
      <${Field} label="From" name="from" type="date" value=${from} onInput=${setFrom} error=${err('from')} />
      <${Field} label="To" name="to" type="date" value=${to} onInput=${setTo} error=${err('to')} />
      <${Field} label="Timezone" name="timezone" value=${tz} onInput=${setTz} error=${err('timezone')} hint="The program's timezone: the figures are kept in it." />
      <button type="submit" disabled=${act.busy}>${act.busy ? 'Loading…' : 'Show'}</button>
    </form>
    <${ErrorBox} error=${atField(act.error) ? null : act.error} />
    ${o && html`<p class="muted">Figures as of ${o.asOf ? fmtDate(o.asOf) : 'the next rollup'}.</p>
    <dl class="figures">
      <div><dt>Customers</dt><dd>${o.customers}</dd></div>
      <div><dt>New customers</dt><dd>${o.newCustomers}</dd></div>
      <div><dt>Purchases</dt><dd>${o.purchases}</dd></div>
      <div><dt>Repeat purchase rate</dt><dd>${pct(o.repeatPurchaseRate)}</dd></div>
      ${o.currencies.map((c) => html`<div><dt>AOV (${c.currency})</dt><dd>${money(c.aovMinor, c.currency)}</dd></div>`)}
      <div><dt>Points liability</dt><dd>${money(e.liabilityMinor, e.currency)}</dd></div>
      <div><dt>Points outstanding</dt><dd>${Math.round(e.outstandingAtEnd)}</dd></div>
      <div><dt>Breakage</dt><dd>${pct(e.breakageRate)}</dd></div>
    </dl>
    <div class="charts">
      <${Bars} title="Retention by month" labels=${data.retention.periods.map((p) => p.from.slice(2, 7))} values=${data.retention.periods.map((p) => p.rate)} format=${pct} />
      <${Bars} title="Points in the range" labels=${['issued', 'redeemed', 'expired']} values=${[e.issued, e.redeemed, e.expired]} format=${(v) => String(Math.round(v))} />
    </div>
    <${Heatmap} cohorts=${data.cohorts.cohorts} />`}
    <h2>Exports</h2>
    <div class="row">${['overview', 'retention', 'cohorts', 'ltv', 'economics', 'tiers', 'referrals'].map((t) => html`<button type="button" class="secondary" onClick=${() => csv(t)}>Download ${t}.csv</button>`)}</div>
    <${ErrorBox} error=${atField(exp.error) ? null : exp.error} /></div>`;
}
