// Rewards and badges catalogs: every reward with its stock and every
// badge with its levels, and forms to create them.
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql } from '../api.js';
import { Field, ErrorBox, placed, Notice, More, usePaged, useAction, num, required } from './ui.js';

const REWARD = 'id name description cost stock perMemberLimit minTier active';

const COUNTERS = ['PURCHASES', 'SPEND', 'CHECK_INS', 'REVIEWS', 'REFERRALS_CONVERTED', 'EVENTS_ATTENDED', 'POSTS_CREATED', 'CURRENT_STREAK', 'LONGEST_STREAK'];
// The list asks for little per badge: the API sizes badges at 50, each with up to 10 levels.
const BADGE = 'id name description counter secret levels { name threshold }';

function Badges() {
  const [badges, setBadges] = useState(null);
  const [form, setForm] = useState({ name: '', description: '', counter: 'PURCHASES', level: 'Bronze', threshold: '5', bonusPoints: '0' });
  const [done, setDone] = useState('');
  const load = useAction();
  const act = useAction();
  const reload = () => load.run(async () => setBadges((await gql(`{ badges { ${BADGE} } }`)).badges));
  useEffect(() => { reload(); }, []);
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const create = (e) => {
    e.preventDefault();
    setDone('');
    act.run(async () => {
      const d = await gql(`mutation($in: BadgeInput!) { createBadge(input: $in) { ${BADGE} } }`, { in: {
        name: form.name, description: form.description, counter: form.counter,
        levels: [{ name: form.level, threshold: required(form.threshold, 'levels[0].threshold', 'Level threshold'), bonusPoints: num(form.bonusPoints, 'levels[0].bonusPoints', 'Level bonus (points)') ?? 0 }] } });
      setDone(`Created the badge “${d.createBadge.name}”; members who already qualify get it as the backfill runs.`);
      reload();
    });
  };
  const err = (k) => (act.error?.field?.replace(/^input\./, '') === k ? act.error.message : null);
  const names = ['name', 'description', 'counter', 'levels[0].name', 'levels[0].threshold', 'levels[0].bonusPoints'];
  return html`<section aria-labelledby="badges"><h2 id="badges">Badges</h2>
    <form onSubmit=${create} class="grid-form" novalidate>
      <${Field} label="Badge name" name="badgeName" value=${form.name} onInput=${set('name')} error=${err('name')} />
      <${Field} label="Badge description" name="badgeDescription" value=${form.description} onInput=${set('description')} error=${err('description')} />
      <${Field} label="Counts" name="counter" value=${form.counter} onInput=${set('counter')} options=${COUNTERS} />
      <${Field} label="Level name" name="level" value=${form.level} onInput=${set('level')} error=${err('levels[0].name')} />
      <${Field} label="Level threshold" name="threshold" type="number" value=${form.threshold} onInput=${set('threshold')} error=${err('levels[0].threshold')} />
      <${Field} label="Level bonus (points)" name="bonusPoints" type="number" value=${form.bonusPoints} onInput=${set('bonusPoints')} error=${err('levels[0].bonusPoints')} />
      <div class="actions">${act.error && !placed(act.error, names) && html`<${ErrorBox} error=${act.error} />`}<${Notice}>${done}<//>
        <button type="submit" disabled=${act.busy}>${act.busy ? 'Creating…' : 'Create badge'}</button></div>
    </form>
    <${ErrorBox} error=${load.error} />
    ${badges && html`<table><thead><tr><th scope="col">Badge</th><th scope="col">Counts</th><th scope="col">Levels</th></tr></thead>
      <tbody>${badges.map((b) => html`<tr><td>${b.name}${b.secret ? ' (secret)' : ''}<br/><small>${b.description}</small></td><td>${b.counter}</td>
        <td>${b.levels.map((l) => `${l.name} at ${l.threshold}`).join(', ')}</td></tr>`)}</tbody></table>`}
  </section>`;
}

export function Rewards() {
  const list = usePaged(async (after) => (await gql(`query($after: String) { rewards(first: 20, after: $after) { edges { node { ${REWARD} } } pageInfo { hasNextPage endCursor } } }`, { after })).rewards, []);
  const [form, setForm] = useState({ name: '', description: '', cost: '', stock: '', perMemberLimit: '0' });
  const [done, setDone] = useState('');
  const act = useAction();
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const create = (e) => {
    e.preventDefault();
    setDone('');
    act.run(async () => {
      const d = await gql(`mutation($in: RewardInput!) { createReward(input: $in) { ${REWARD} } }`, {
        in: { name: form.name, description: form.description, cost: required(form.cost, 'cost', 'Cost'), stock: num(form.stock, 'stock', 'Stock'), perMemberLimit: num(form.perMemberLimit, 'perMemberLimit', 'Per-member limit') ?? 0 } });
      setDone(`Created “${d.createReward.name}”.`);
      setForm({ name: '', description: '', cost: '', stock: '', perMemberLimit: '0' });
      list.reload();
    });
  };
  const err = (k) => (act.error?.field?.replace(/^input\./, '') === k ? act.error.message : null);
  return html`<div class="page"><h1>Rewards</h1>
    <section aria-labelledby="new-reward"><h2 id="new-reward">New reward</h2>
    <form onSubmit=${create} class="grid-form" novalidate>
      <${Field} label="Name" name="name" value=${form.name} onInput=${set('name')} error=${err('name')} />
      <${Field} label="Description" name="description" value=${form.description} onInput=${set('description')} error=${err('description')} />
      <${Field} label="Cost (points)" name="cost" type="number" value=${form.cost} onInput=${set('cost')} error=${err('cost')} />
      <${Field} label="Stock (empty: unlimited)" name="stock" type="number" value=${form.stock} onInput=${set('stock')} error=${err('stock')} />
      <${Field} label="Per-member limit (0: none)" name="perMemberLimit" type="number" value=${form.perMemberLimit} onInput=${set('perMemberLimit')} error=${err('perMemberLimit')} />
      <div class="actions">${act.error && !placed(act.error, ['name', 'description', 'cost', 'stock', 'perMemberLimit']) && html`<${ErrorBox} error=${act.error} />`}<${Notice}>${done}<//>
        <button type="submit" disabled=${act.busy}>${act.busy ? 'Creating…' : 'Create reward'}</button></div>
    </form></section>
    <h2>Catalog</h2>
    <table><thead><tr><th scope="col">Reward</th><th scope="col">Cost</th><th scope="col">Stock</th><th scope="col">Per member</th><th scope="col">Active</th></tr></thead>
    <tbody>${list.items.map((r) => html`<tr><td>${r.name}<br/><small>${r.description}</small></td><td>${r.cost}</td><td>${r.stock ?? 'unlimited'}</td><td>${r.perMemberLimit || '—'}</td><td>${r.active ? 'yes' : 'no'}</td></tr>`)}</tbody></table>
    <${More} list=${list} />
    <${Badges} /></div>`;
}
