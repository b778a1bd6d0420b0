// Events: create and publish, live counts, attendee lists, and the door
// check-in screen (typed code, or the camera through BarcodeDetector).
import { html, useState, useEffect, useRef } from '../vendor/htm-preact-standalone.mjs';
import { gql, subscribe } from '../api.js';
import { Field, ErrorBox, placed, Notice, More, Missing, notFound, usePaged, useAction, num, zonedTime, fmtDate, fmtZoned } from './ui.js';

const COUNTS = 'counts { confirmed guests waitlisted offered attended noShow }';
const EVENT = `id title status startsAt endsAt timezone capacity seatsLeft place { venue address } ${COUNTS}`;
const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);

export function Events() {
  const list = usePaged(async (after) => (await gql(`query($after: String) { brandEvents(first: 20, after: $after) { edges { node { ${EVENT} } } pageInfo { hasNextPage endCursor } } }`, { after })).brandEvents, []);
  const start = new Date(Date.now() + 3 * 864e5);
  start.setMinutes(0, 0, 0);
  const blank = { title: '', venue: '', address: '', startsAt: local(start), endsAt: local(new Date(start.getTime() + 3 * 36e5)), timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', capacity: '50', guestsPerMember: '0' };
  const [form, setForm] = useState(blank);
  const [done, setDone] = useState('');
  const act = useAction();
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const create = (e) => {
    e.preventDefault();
    setDone('');
    act.run(async () => {
      const d = await gql(`mutation($in: EventInput!) { createEvent(input: $in) { id title } }`, { in: {
        title: form.title, place: { venue: form.venue || null, address: form.address || null }, // Starts and Ends are wall times in the event's timezone, whatever the browser's.
        startsAt: zonedTime(form.startsAt, form.timezone, 'startsAt', 'Starts'), endsAt: zonedTime(form.endsAt, form.timezone, 'endsAt', 'Ends'),
        timezone: form.timezone, capacity: num(form.capacity, 'capacity', 'Seats'), guestsPerMember: num(form.guestsPerMember, 'guestsPerMember', 'Guests per member') } });
      setDone(`Created “${d.createEvent.title}” as a draft.`);
      setForm(blank);
      list.reload();
    });
  };
  const err = (k) => (act.error?.field?.replace(/^input\./, '') === k ? act.error.message : null);
  // The API names the place as a whole (neither venue nor address): shown at both.
  const perr = (k) => err('place.' + k) || err('place');
  return html`<div class="page"><h1>Events</h1>
    <section aria-labelledby="new-event"><h2 id="new-event">New event</h2>
    <form onSubmit=${create} class="grid-form" novalidate>
      <${Field} label="Title" name="title" value=${form.title} onInput=${set('title')} error=${err('title')} />
      <${Field} label="Venue" name="venue" value=${form.venue} onInput=${set('venue')} error=${perr('venue')} />
      <${Field} label="Address" name="address" value=${form.address} onInput=${set('address')} error=${perr('address')} />
      <${Field} label="Starts" name="startsAt" type="datetime-local" value=${form.startsAt} onInput=${set('startsAt')} error=${err('startsAt')} hint="In the event's timezone" />
      <${Field} label="Ends" name="endsAt" type="datetime-local" value=${form.endsAt} onInput=${set('endsAt')} error=${err('endsAt')} hint="In the event's timezone" />
      <${Field} label="Timezone" name="timezone" value=${form.timezone} onInput=${set('timezone')} error=${err('timezone')} hint="IANA name, e.g. America/New_York: Starts and Ends are read in it" />
      <${Field} label="Seats" name="capacity" type="number" value=${form.capacity} onInput=${set('capacity')} error=${err('capacity')} />
      <${Field} label="Guests per member" name="guestsPerMember" type="number" value=${form.guestsPerMember} onInput=${set('guestsPerMember')} error=${err('guestsPerMember')} />
      <div class="actions">${act.error && !placed(act.error, ['title', 'place', 'place.venue', 'place.address', 'startsAt', 'endsAt', 'timezone', 'capacity', 'guestsPerMember']) && html`<${ErrorBox} error=${act.error} />`}<${Notice}>${done}<//>
        <button type="submit" disabled=${act.busy}>${act.busy ? 'Creating…' : 'Create event'}</button></div>
    </form></section>
    <h2>Your events</h2>
    <table><thead><tr><th scope="col">Event</th><th scope="col">Starts</th><th scope="col">Status</th><th scope="col">Seats left</th><th scope="col">Confirmed</th><th scope="col">Waitlisted</th><th scope="col">Attended</th></tr></thead>
    <tbody>${list.items.map((e) => html`<tr><td><a href=${'#/events/' + encodeURIComponent(e.id)}>${e.title}</a></td><td>${fmtZoned(e.startsAt, e.timezone)}</td><td>${e.status}</td><td>${e.seatsLeft}</td><td>${e.counts?.confirmed}</td><td>${e.counts?.waitlisted}</td><td>${e.counts?.attended}</td></tr>`)}</tbody></table>
    <${More} list=${list} /></div>`;
}

const STATUSES = ['CONFIRMED', 'WAITLISTED', 'OFFERED', 'ATTENDED', 'CANCELLED', 'NO_SHOW'];

function Attendees({ eventId, timezone, version }) {
  const [status, setStatus] = useState('CONFIRMED');
  const list = usePaged(async (after) => (await gql(`query($id: ID!, $s: RSVPStatus!, $after: String) { event(id: $id) { attendees(status: $s, first: 20, after: $after) {
      edges { node { status guests position checkedInAt createdAt member { id displayName email } } } pageInfo { hasNextPage endCursor } } } }`, { id: eventId, s: status, after })).event.attendees, [eventId, status, version]);
  return html`<section aria-labelledby="attendees"><h2 id="attendees">Attendees</h2>
    <${Field} label="Show" name="rsvpStatus" value=${status} onInput=${setStatus} options=${STATUSES} />
    <table><thead><tr><th scope="col">Member</th><th scope="col">Status</th><th scope="col">Guests</th><th scope="col">Checked in</th></tr></thead>
    <tbody>${list.items.map((r) => html`<tr><td>${r.member ? html`<a href=${'#/members/' + encodeURIComponent(r.member.id)}>${r.member.displayName}</a>` : '—'}</td><td>${r.status}${r.position ? ' #' + r.position : ''}</td><td>${r.guests}</td><td>${fmtZoned(r.checkedInAt, timezone)}</td></tr>`)}</tbody></table>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="muted">No one with this status.</p>`}
    <${More} list=${list} /></section>`;
}

export function EventDetail({ id }) {
  const [event, setEvent] = useState(null);
  const [version, setVersion] = useState(0);
  const act = useAction();
  const load = () => act.run(async () => setEvent((await gql(`query($id: ID!) { event(id: $id) { ${EVENT} } }`, { id })).event));
  useEffect(() => { load(); }, [id, version]);
  // Live: every change to the event (seats, status, the RSVPs by status,
  // a member joining the waitlist too) comes over the socket with its
  // counts, shown as they come, and the attendee list is read again; if
  // the socket fails, the event is read every 5 s.
  const [live, setLive] = useState(null);
  const [changes, setChanges] = useState(0);
  const status = event?.status;
  useEffect(() => {
    if (status !== 'PUBLISHED') return undefined;
    let poll;
    const stop = subscribe(`subscription($id: ID!) { eventUpdates(eventId: $id) { cursor seatsLeft status ${COUNTS} } }`, { id },
      (d) => {
        const u = d.eventUpdates;
        setLive('live');
        setEvent((e) => e && { ...e, status: u.status, seatsLeft: u.seatsLeft, counts: u.counts || e.counts });
        setChanges((n) => n + 1);
      },
      () => { setLive('polling'); clearInterval(poll); poll = setInterval(() => setVersion((v) => v + 1), 5000); });
    return () => { stop(); clearInterval(poll); };
  }, [id, status]);
  if (!event && notFound(act.error)) return html`<${Missing} />`;
  if (!event) return html`<${ErrorBox} error=${act.error} />${act.busy && html`<p role="status">Loading…</p>`}`;
  const publish = () => act.run(async () => { await gql(`mutation($id: ID!) { publishEvent(id: $id) { status } }`, { id }); setVersion((v) => v + 1); });
  const c = event.counts || {};
  return html`<div class="page"><p><a href="#/events">← Events</a></p>
    <h1>${event.title}</h1>
    <p class="muted">${event.place.venue || ''} · ${fmtZoned(event.startsAt, event.timezone)} to ${fmtZoned(event.endsAt, event.timezone)} · <span class="status">${event.status}</span></p>
    ${event.status === 'DRAFT' && html`<button type="button" onClick=${publish} disabled=${act.busy}>Publish event</button>`}
    <a class="button secondary" href=${'#/door/' + encodeURIComponent(id)}>Door check-in</a>
    <${ErrorBox} error=${act.error} />
    ${live && html`<p class="muted">${live === 'live' ? 'Counts update live.' : 'Live updates unavailable: counts are read every 5 s.'}</p>`}
    <dl class="figures" aria-live="polite">
      <div><dt>Seats left</dt><dd data-count="seatsLeft">${event.seatsLeft} of ${event.capacity}</dd></div>
      <div><dt>Confirmed</dt><dd data-count="confirmed">${c.confirmed}</dd></div>
      <div><dt>Guests</dt><dd>${c.guests}</dd></div>
      <div><dt>Waitlisted</dt><dd data-count="waitlisted">${c.waitlisted}</dd></div>
      <div><dt>Offered a seat</dt><dd>${c.offered}</dd></div>
      <div><dt>Attended</dt><dd data-count="attended">${c.attended}</dd></div>
    </dl>
    <${Attendees} eventId=${id} timezone=${event.timezone} version=${version + '.' + changes} /></div>`;
}

// Door is the check-in screen: an event, then a code typed or scanned.
export function Door({ arg }) {
  const [eventId, setEventId] = useState(arg || '');
  const [events, setEvents] = useState([]);
  const [listed, setListed] = useState(false);
  const [code, setCode] = useState('');
  const [result, setResult] = useState(null);
  const [scanning, setScanning] = useState(false);
  const video = useRef(null);
  const act = useAction();
  useEffect(() => {
    // The published events not yet over (today's and upcoming), whoever
    // may attend them: the door's own list, for BRAND and STAFF alike.
    const read = async (after) => (await gql(`query($after: String) { doorEvents(first: 50, after: $after) { edges { node { id title status startsAt endsAt timezone } } pageInfo { hasNextPage endCursor } } }`, { after })).doorEvents;
    (async () => {
      let evs = [], after = null;
      for (let i = 0; i < 10; i++) {
        const c = await read(after);
        evs = evs.concat(c.edges.map((e) => e.node));
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      setEvents(evs);
      setListed(true);
      if (!eventId && evs[0]) setEventId(evs[0].id);
    })().catch(act.setError);
  }, []);
  // Times at the door are the event's wall times (the browser's when the
  // event was pasted, not listed); "already checked in at <RFC 3339>" too.
  const zone = events.find((e) => e.id === eventId)?.timezone;
  const at = (t) => (zone ? fmtZoned(t, zone) : fmtDate(t));
  const checkIn = (c) => act.run(async () => {
    setResult(null);
    const d = await gql(`mutation($e: ID!, $c: String!) { checkInAttendee(eventId: $e, code: $c) { status guests checkedInAt attendeeName } }`, { e: eventId, c: c.trim() })
      .catch((e) => { throw Object.assign(e, { message: e.message.replace(/ at (\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d))/, (_, t) => ' at ' + at(t)) }); });
    setResult(d.checkInAttendee);
    // Cleared for the next guest, unless the next code is already being typed.
    setCode((typed) => (typed === c ? '' : typed));
  });
  useEffect(() => {
    if (!scanning) return undefined;
    let stream, stop = false;
    (async () => {
      const detector = new BarcodeDetector({ formats: ['qr_code'] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      video.current.srcObject = stream;
      await video.current.play();
      while (!stop) {
        const found = await detector.detect(video.current);
        if (found[0]) { setScanning(false); checkIn(found[0].rawValue); return; }
        await new Promise((r) => setTimeout(r, 250));
      }
    })().catch((e) => { act.setError(e); setScanning(false); });
    return () => { stop = true; stream?.getTracks().forEach((t) => t.stop()); };
  }, [scanning]);
  const canScan = 'BarcodeDetector' in window && !!navigator.mediaDevices;
  return html`<div class="page"><h1>Door check-in</h1>
    <form class="door" onSubmit=${(e) => { e.preventDefault(); checkIn(code); }}>
      ${events.length ? html`<${Field} label="Event" name="eventId" value=${eventId} onInput=${setEventId} options=${events.map((e) => ({ value: e.id, label: `${e.title} (${fmtZoned(e.startsAt, e.timezone)})` }))} />`
        : html`<${Field} label="Event id" name="eventId" value=${eventId} onInput=${setEventId} hint=${listed ? 'No published event today or upcoming: paste an event id.' : null} />`}
      <${Field} label="Check-in code" name="code" value=${code} onInput=${setCode} autocomplete="off" autocapitalize="characters" inputmode="text"
        hint="Scan the QR code, or type the 8-character door code shown beside it (any case, dashes optional)." error=${act.error?.field === 'code' ? act.error.message : null} />
      <button type="submit" disabled=${act.busy || !code.trim() || !eventId}>${act.busy ? 'Checking…' : 'Check in'}</button>
      ${canScan && html`<button type="button" class="secondary" onClick=${() => setScanning(!scanning)}>${scanning ? 'Stop camera' : 'Scan QR code'}</button>`}
    </form>
    ${scanning && html`<video ref=${video} class="scanner" muted playsinline aria-label="Camera view for scanning a check-in QR code"></video>`}
    <${ErrorBox} error=${act.error?.field === 'code' ? null : act.error} />
    ${result && html`<p class="checked-in" role="status">✔ ${result.attendeeName || 'Attendee'} checked in${result.guests ? ` with ${result.guests} guest(s)` : ''} at ${at(result.checkedInAt)}.</p>`}</div>`;
}
