// Moderation: a space's review queue with each post's context (its thread,
// linked to the thread's posts at #/moderation/<threadId>, and the post it
// answers), its flags and its author's history (with their sanctions in
// force), actions with a reason, silencing the author for a while and
// lifting it, and the audit log (BRAND).
import { html, useState, useEffect } from '../vendor/htm-preact-standalone.mjs';
import { gql, hasRole, subscribe } from '../api.js';
import { Field, ErrorBox, Notice, More, Missing, notFound, usePaged, useAction, fmtDate, formError, placed } from './ui.js';

const DURATIONS = [{ value: '60', label: '1 hour' }, { value: '1440', label: '1 day' }, { value: '10080', label: '7 days' }, { value: '43200', label: '30 days' }];

// Sanctions shows the author's sanctions in force (in the space or
// everywhere), silences them here with sanctionMember and lifts one with
// liftSanction, each with the reason given.
function Sanctions({ author, spaceId, onDone }) {
  const [minutes, setMinutes] = useState('1440');
  const [reason, setReason] = useState('');
  const act = useAction();
  const who = author.displayName;
  const silence = () => act.run(async () => {
    await gql(`mutation($m: ID!, $s: ID, $d: Int!, $r: String) { sanctionMember(memberId: $m, spaceId: $s, kind: SILENCE, durationMinutes: $d, reason: $r) { until } }`,
      { m: author.memberId, s: spaceId, d: Number(minutes), r: reason || null });
    setReason('');
    onDone(`${who} is silenced in this space.`);
  });
  const lift = (sn) => act.run(async () => {
    await gql(`mutation($m: ID!, $s: ID, $k: SanctionKind!, $r: String) { liftSanction(memberId: $m, spaceId: $s, kind: $k, reason: $r) { until } }`,
      { m: author.memberId, s: sn.spaceId, k: sn.kind, r: reason || null });
    setReason('');
    onDone(`${who}'s ${sn.kind.toLowerCase()} is lifted.`);
  });
  return html`<div class="sanctions">
    ${author.sanctions.length > 0 && html`<ul aria-label=${`Sanctions of ${who}`}>${author.sanctions.map((sn) => html`<li>
      ${sn.kind} ${sn.spaceId ? 'in this space' : 'everywhere'} until ${fmtDate(sn.until)}${sn.reason ? ': ' + sn.reason : ''}
      <button type="button" class="secondary" onClick=${() => lift(sn)} disabled=${act.busy}>Lift the ${sn.kind.toLowerCase()} of ${who}</button></li>`)}</ul>`}
    <div class="row">
      <${Field} label=${`Silence ${who} for`} name="silenceFor" value=${minutes} onInput=${setMinutes} options=${DURATIONS}
        error=${placed(act.error, ['durationMinutes']) ? act.error.message : null} />
      <${Field} label=${`Reason for the sanction of ${who}`} name="sanctionReason" value=${reason} onInput=${setReason}
        error=${placed(act.error, ['reason']) ? act.error.message : null} />
      <button type="button" class="danger" onClick=${silence} disabled=${act.busy}>Silence ${who}</button>
    </div>
    ${!placed(act.error, ['reason', 'durationMinutes']) && html`<${ErrorBox} error=${act.error} />`}
  </div>`;
}

// ACTIONS are what a moderator can do to a post in its current state, each
// a plain moderatePost: a reversal of the review's decision when the item
// is resolved (restoring a post hidden by mistake, hiding one approved).
const ACTIONS = {
  VISIBLE: [{ action: 'HIDE', label: 'Hide', reversal: 'Hide anyway' }, { action: 'DELETE', label: 'Delete', danger: true }],
  PENDING_APPROVAL: [{ action: 'APPROVE', label: 'Approve' }, { action: 'HIDE', label: 'Hide' }, { action: 'DELETE', label: 'Delete', danger: true }],
  HIDDEN: [{ action: 'APPROVE', label: 'Restore' }, { action: 'DELETE', label: 'Delete', danger: true }],
};
// actionName is a button's words, e.g. "Restore post #2", "Hide post #2 anyway".
const actionName = (a, n, reversal) => (reversal && a.reversal ? a.reversal.replace(' ', ` post #${n} `) : `${a.label} post #${n}`);

// PostActions acts on a post as it is now (not on a review item seen
// pending): from a resolved item of the queue (a reversal) and from the
// thread a moderator opens. The reason is asked for and goes to the audit
// log with the post's status before and after.
function PostActions({ post: p, reversal, onDone }) {
  const [reason, setReason] = useState('');
  const act = useAction();
  const actions = ACTIONS[p.status] || [];
  const moderate = (a) => act.run(async () => {
    if (!reason.trim()) throw formError('reason', `Give a reason for ${a.label.toLowerCase()} post #${p.number}: it goes to the audit log.`);
    const d = await gql(`mutation($p: ID!, $a: PostAction!, $r: String) { moderatePost(postId: $p, action: $a, reason: $r) { id status } }`, { p: p.id, a: a.action, r: reason.trim() });
    setReason('');
    onDone(`Post #${p.number} by ${p.author.displayName}: ${a.label.toLowerCase()}, now ${d.moderatePost.status.toLowerCase()}.`);
  });
  if (!actions.length) return html`<p class="muted">Post #${p.number} is ${p.status.toLowerCase()}: nothing to undo.</p>`;
  return html`<div class="post-actions">
    <${Field} label=${`Reason for post #${p.number}`} name="reason" value=${reason} onInput=${setReason}
      error=${placed(act.error, ['reason']) ? act.error.message : null} />
    <div class="row">${actions.map((a) => html`<button type="button" class=${a.danger ? 'danger' : 'secondary'} onClick=${() => moderate(a)} disabled=${act.busy}>${actionName(a, p.number, reversal)}</button>`)}</div>
    ${!placed(act.error, ['reason']) && html`<${ErrorBox} error=${act.error} />`}
  </div>`;
}

function ReviewItem({ item, spaceId, onDone, onConflict }) {
  const [reason, setReason] = useState('');
  const act = useAction();
  const p = item.post;
  const resolved = item.status === 'RESOLVED';
  // A decision is made on the item as shown, pending (pendingReview): when
  // another moderator decided first, the API answers CONFLICT naming them
  // and their decision, nothing of this one is applied, and the queue is
  // read again. A resolved item is acted on as its post is now
  // (PostActions): the pending-review guard is for pending items only.
  const moderate = (action) => act.run(async () => {
    try {
      await gql(`mutation($p: ID!, $a: PostAction!, $r: String) { moderatePost(postId: $p, action: $a, reason: $r, pendingReview: true) { id status } }`, { p: p.id, a: action, r: reason || null });
    } catch (e) {
      if (e.code !== 'CONFLICT') throw e;
      onConflict(`Post #${p.number} by ${p.author.displayName}: already decided by ${e.extensions?.by || 'another moderator'}: ${(e.extensions?.action || 'changed').toLowerCase()}. Nothing of yours was applied.`);
      return;
    }
    onDone(`Post #${p.number} by ${p.author.displayName}: ${action.toLowerCase()}.`);
  });
  const answered = item.inReplyTo;
  return html`<li class="card review" data-post=${p.id}>
    <p class="context">${item.thread ? html`In <a href=${'#/moderation/' + encodeURIComponent(item.thread.id)}>${item.thread.title}</a>` : 'In a thread that is gone'}${p.number > 1 ? ' (a reply)' : ' (the opening post)'}</p>
    ${answered && html`<div class="answered">
      <p class="muted">${p.quoteId ? 'Quoting' : 'Replying to'} post #${answered.number} by ${answered.author.displayName} · ${answered.status}</p>
      <blockquote class="quoted">${answered.body ?? '(not shown)'}</blockquote></div>`}
    <p class="muted">Post #${p.number} by <strong>${p.author.displayName}</strong> · ${fmtDate(p.createdAt)} · ${p.status} · score ${item.score}, ${item.flagCount} flag(s)</p>
    <blockquote>${p.body}</blockquote>
    <p>Reasons: ${item.reasons.join(', ') || '—'}</p>
    <ul class="flags">${item.firstFlags.map((f) => html`<li>${f.reason}${f.note ? ': ' + f.note : ''} (weight ${f.weight})</li>`)}</ul>
    ${item.flagCount > item.firstFlags.length && html`<p class="muted">and ${item.flagCount - item.firstFlags.length} more flag(s).</p>`}
    <p class="muted">Author: trust level ${item.author.trustLevel}, ${item.author.postsLast30Days} posts in 30 days${item.author.hiddenRecently ? ', a post hidden recently' : ''}${item.author.sanctions.length ? `, ${item.author.sanctions.length} sanction(s) in force` : ', no sanction in force'}.</p>
    <${Sanctions} author=${item.author} spaceId=${spaceId} onDone=${onDone} />
    ${resolved ? html`<${PostActions} post=${p} reversal onDone=${onDone} />` : html`
    <${Field} label=${`Reason for post #${p.number}`} name="reason" value=${reason} onInput=${setReason}
      error=${placed(act.error, ['reason']) ? act.error.message : null} />
    <div class="row">
      <button type="button" onClick=${() => moderate('HIDE')} disabled=${act.busy}>Hide post #${p.number}</button>
      <button type="button" class="secondary" onClick=${() => moderate('APPROVE')} disabled=${act.busy}>Approve post #${p.number}</button>
      <button type="button" class="danger" onClick=${() => moderate('DELETE')} disabled=${act.busy}>Delete post #${p.number}</button>
    </div>
    ${!placed(act.error, ['reason']) && html`<${ErrorBox} error=${act.error} />`}`}
  </li>`;
}

// The queue pages 20 items, each with its first 3 flags (firstFlags keeps
// a page within the API's cost limit), and is read again on each
// reviewQueueChanged push over the socket; if the socket fails it is read
// every 15 s instead.
function Queue({ spaceId }) {
  const [status, setStatus] = useState('PENDING');
  const [done, setDone] = useState('');
  const [conflict, setConflict] = useState('');
  const [live, setLive] = useState(null); // {pending, more} from the last push
  const [liveError, setLiveError] = useState(null);
  const list = usePaged(async (after) => (await gql(`query($s: ID!, $st: ReviewStatus, $after: String) { reviewQueue(spaceId: $s, status: $st, first: 20, after: $after) {
      edges { node { score flagCount reasons status firstFlags(first: 3) { reason note weight createdAt } author { memberId displayName trustLevel postsLast30Days hiddenRecently sanctions { kind until reason spaceId } }
        thread { id title } inReplyTo { id number status body author { displayName } }
        post { id number body status createdAt quoteId author { displayName } } } } pageInfo { hasNextPage endCursor } } }`, { s: spaceId, st: status, after })).reviewQueue, [spaceId, status]);
  useEffect(() => {
    const stop = subscribe(`subscription($s: ID!) { reviewQueueChanged(spaceId: $s) { pending morePending version } }`, { s: spaceId },
      (d) => {
        setLive({ pending: d.reviewQueueChanged.pending, more: d.reviewQueueChanged.morePending });
        setLiveError(null);
        list.reload();
      },
      (e) => setLiveError(e));
    return stop;
  }, [spaceId, status]);
  useEffect(() => {
    if (!liveError) return undefined;
    const t = setInterval(list.reload, 15000);
    return () => clearInterval(t);
  }, [liveError, spaceId, status]);
  return html`<section aria-labelledby="queue"><h2 id="queue">Review queue</h2>
    <div class="row"><${Field} label="Show" name="reviewStatus" value=${status} onInput=${setStatus} options=${['PENDING', 'RESOLVED']} />
      <button type="button" class="secondary" onClick=${list.reload}>Refresh</button></div>
    <p class="muted live" aria-live="polite">${liveError ? `${liveError.message}; the queue is read every 15 s.`
      : live ? `Live: ${live.pending}${live.more ? '+' : ''} post(s) waiting.` : 'Connecting for live updates…'}</p>
    <${Notice}>${done}<//>
    ${conflict && html`<p class="error" role="alert">${conflict}</p>`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">Nothing waits for review.</p>`}
    <ul class="cards">${list.items.map((it) => html`<${ReviewItem} key=${it.post.id} item=${it} spaceId=${spaceId} onDone=${(m) => { setDone(m); setConflict(''); list.reload(); }} onConflict=${(m) => { setDone(''); setConflict(m); list.reload(); }} />`)}</ul>
    <${More} list=${list} /></section>`;
}

// TARGETS reads what log entries are about by their ids (nodes), for a
// readable target with a link where the console has a page for it.
const TARGETS = `query($ids: [ID!]!) { nodes(ids: $ids) { id
  ... on Post { threadId number status author { displayName } } ... on Thread { title } ... on Member { displayName }
  ... on Space { name } ... on WatchedWord { word } } }`;

async function withTargets(entries) {
  const ids = [...new Set(entries.map((e) => e.targetId).filter(Boolean))];
  if (!ids.length) return entries;
  let d;
  try { d = await gql(TARGETS, { ids }); } catch (e) {
    if (!e.data) throw e;
    d = e.data; // the targets no longer visible (a deleted post) answer null
  }
  const byId = new Map(d.nodes.filter(Boolean).map((n) => [n.id, n]));
  return entries.map((e) => ({ ...e, target: byId.get(e.targetId) }));
}

const KINDS = { POST: 'Post', THREAD: 'Thread', MEMBER: 'Member', SPACE: 'Space', WATCHED_WORD: 'Watched word' };

function Target({ entry: e }) {
  const kind = KINDS[e.targetKind] || e.targetKind;
  const t = e.target;
  if (!t) return html`${kind} (gone)`;
  switch (e.targetKind) {
    // A deleted post is still a node (its thread lists it as deleted) but
    // has nothing left to show: named, not linked.
    case 'POST': return t.status === 'DELETED' || t.status === 'REMOVED' ? html`Post #${t.number} by ${t.author.displayName} (deleted)`
      : html`<a href=${'#/moderation/' + encodeURIComponent(t.threadId)}>Post #${t.number} by ${t.author.displayName}</a>`;
    case 'THREAD': return html`Thread <a href=${'#/moderation/' + encodeURIComponent(t.id)}>${t.title}</a>`;
    case 'MEMBER': return hasRole('BRAND') ? html`Member <a href=${'#/members/' + encodeURIComponent(t.id)}>${t.displayName}</a>` : html`Member ${t.displayName}`;
    case 'SPACE': return html`Space ${t.name}`;
    case 'WATCHED_WORD': return html`Watched word “${t.word}”`;
    default: return kind;
  }
}

function AuditLog({ spaceId }) {
  const list = usePaged(async (after) => {
    const c = (await gql(`query($s: ID, $after: String) { moderationLog(spaceId: $s, first: 20, after: $after) {
      edges { node { entryId action targetKind targetId reason before after at actor { displayName } } } pageInfo { hasNextPage endCursor } } }`, { s: spaceId || null, after })).moderationLog;
    const entries = await withTargets(c.edges.map((e) => e.node));
    return { ...c, edges: entries.map((node) => ({ node })) };
  }, [spaceId]);
  return html`<section aria-labelledby="audit"><h2 id="audit">Audit log</h2>
    <button type="button" class="secondary" onClick=${list.reload}>Refresh the log</button>
    <table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">On</th><th scope="col">Reason</th></tr></thead>
    <tbody>${list.items.map((e) => html`<tr><td>${fmtDate(e.at)}</td><td>${e.actor?.displayName || 'system'}</td><td>${e.action}${e.before && e.after && e.before !== e.after ? ` (${e.before} → ${e.after})` : ''}</td><td><${Target} entry=${e} /></td><td>${e.reason || '—'}</td></tr>`)}</tbody></table>
    <${More} list=${list} /></section>`;
}

// ThreadView is a thread's posts as its moderators see them (hidden and
// held posts with their words), 20 a page, each with the actions for its
// current state (PostActions): where a review item's thread link leads.
function ThreadView({ id }) {
  const [thread, setThread] = useState(null);
  const [done, setDone] = useState('');
  const [error, setError] = useState(null);
  useEffect(() => {
    gql(`query($id: ID!) { node(id: $id) { ... on Thread { id title locked postCount space { name } } } }`, { id })
      .then((d) => (d.node?.id ? setThread(d.node) : setError({ code: 'NOT_FOUND' })), setError);
  }, [id]);
  const posts = usePaged(async (after) => (await gql(`query($t: ID!, $after: String) { posts(threadId: $t, first: 20, after: $after) {
      edges { node { id number status body createdAt quoteId author { displayName } } } pageInfo { hasNextPage endCursor } } }`, { t: id, after })).posts, [id]);
  // An address that is no thread (a mistyped #/moderation/…) is not found.
  if (notFound(error)) return html`<${Missing} />`;
  return html`<div><p><a href="#/moderation">Back to the review queue</a></p>
    <h1>${thread ? thread.title : 'Thread'}</h1>
    ${thread && html`<p class="muted">In ${thread.space.name} · ${thread.postCount} post(s)${thread.locked ? ' · locked' : ''}</p>`}
    <${ErrorBox} error=${error} />
    <${Notice}>${done}<//>
    <ol class="cards thread" aria-label="Posts">${posts.items.map((p) => html`<li class="card" data-post=${p.id}>
      <p class="muted">#${p.number} by <strong>${p.author.displayName}</strong> · ${fmtDate(p.createdAt)} · ${p.status}</p>
      <blockquote>${p.body ?? '(not shown)'}</blockquote>
      <${PostActions} post=${p} onDone=${(m) => { setDone(m); posts.reload(); }} /></li>`)}</ol>
    <${More} list=${posts} label="More posts" /></div>`;
}

export function Moderation({ arg }) {
  if (arg) return html`<${ThreadView} id=${arg} />`;
  return html`<${ModerationHome} />`;
}

function ModerationHome() {
  const spaces = usePaged(async (after) => (await gql(`query($after: String) { spaces(first: 50, after: $after) { edges { node { id name moderatedByMe } } pageInfo { hasNextPage endCursor } } }`, { after })).spaces, []);
  const mine = spaces.items.filter((s) => s.moderatedByMe || hasRole('BRAND'));
  const [spaceId, setSpaceId] = useState('');
  const current = spaceId || mine[0]?.id;
  return html`<div><h1>Moderation</h1>
    ${mine.length > 0 && html`<${Field} label="Space" name="spaceId" value=${current} onInput=${setSpaceId} options=${mine.map((s) => ({ value: s.id, label: s.name }))} />`}
    <${More} list=${spaces} label="More spaces" />
    ${!spaces.loading && !spaces.error && mine.length === 0 && html`<p class="muted">You moderate no space yet.</p>`}
    ${current && html`<${Queue} key=${current} spaceId=${current} />`}
    ${hasRole('BRAND') && html`<${AuditLog} spaceId=${current} />`}</div>`;
}
