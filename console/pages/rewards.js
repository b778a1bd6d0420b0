// Rewards catalog: every reward with its stock, and a form to create one.
import { html, useState } from '../vendor/htm-preact-standalone.mjs';
import { gql } from '../api.js';
import { Field, ErrorBox, placed, Notice, More, usePaged, useAction, num } from './ui.js';

const REWARD = 'id name description cost stock perMemberLimit minTier active';

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
        in: { name: form.name, description: form.description, cost: num(form.cost), stock: num(form.stock), perMemberLimit: num(form.perMemberLimit) ?? 0 } });
      setDone(`Created “${d.createReward.name}”.`);
      setForm({ name: '', description: '', cost: '', stock: '', perMemberLimit: '0' });
      list.reload();
    });
  };
  const err = (k) => (act.error?.field?.replace(/^input\./, '') === k ? act.error.message : null);
  return html`<h1>Rewards</h1>
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
    <${More} list=${list} />`;
}
