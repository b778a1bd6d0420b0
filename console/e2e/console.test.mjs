// Browser tests of the console (issue 20): the real server, built from
// this tree and run on the embedded database, driven in Debian's headless
// Chromium through playwright-core, with axe-core checking every page.
// Run with console/e2e/run.sh (README, "Console").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const shots = join(root, 'docs', 'screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const API_KEY = 'console-e2e-service-key-0123456789';
const PASSWORD = 'correct horse battery staple';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let work, server, base, browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// api calls the public API from the test, as the brand's backend (ApiKey) or a member (Bearer).
async function api(auth, query, variables = {}) {
  const res = await fetch(base + '/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors)}`);
  return body.data;
}
const service = (q, v) => api('ApiKey ' + API_KEY, q, v);

async function signUp(name, roles = []) {
  const email = name.toLowerCase() + '@example.com';
  const d = await api('', `mutation($in: SignUpInput!) { signUp(input: $in) { accessToken member { id } } }`,
    { in: { email, password: PASSWORD, displayName: name, timezone: 'Europe/Paris' } });
  for (const role of roles) await service(`mutation($id: ID!, $r: Role!) { grantRole(memberId: $id, role: $r) { id } }`, { id: d.signUp.member.id, r: role });
  return { email, id: d.signUp.member.id, bearer: 'Bearer ' + d.signUp.accessToken };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'console-e2e-'));
  const bin = join(work, 'regulars');
  execFileSync('go', ['build', '-o', bin, './server'], { cwd: root, stdio: 'inherit' });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const log = openSync(join(work, 'server.log'), 'w');
  server = spawn(bin, [], {
    cwd: work, stdio: ['ignore', log, log],
    env: { ...process.env, HTTP_ADDR: `127.0.0.1:${port}`, DATA_DIR: join(work, 'data'), MONGODB_URI: '', APP_ENV: 'development',
      SERVICE_API_KEYS: API_KEY, LOG_LEVEL: 'warn',
      // The strictest setting: any second use of a refresh token revokes the
      // session, so the console must never spend one twice (two tabs either).
      REFRESH_REUSE_GRACE: '0s',
      // One browser and this test share 127.0.0.1: the per-address limit would
      // otherwise throttle a test that clicks faster than a person.
      RATE_LIMIT_IP_RPS: '1000', RATE_LIMIT_IP_BURST: '2000', RATE_LIMIT_MEMBER_RPS: '1000', RATE_LIMIT_MEMBER_BURST: '2000' },
  });
  const exited = new Promise((resolve) => server.once('exit', (code) => resolve(code)));
  for (let i = 0; ; i++) {
    const ok = await fetch(base + '/readyz').then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 600 || server.exitCode !== null) {
      throw new Error(`the server never became ready (exit ${await Promise.race([exited, 'running'])}):\n` + readFileSync(join(work, 'server.log'), 'utf8'));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await new Promise((r) => server.once('exit', r));
  if (work) rmSync(work, { recursive: true, force: true });
});

// explain adds what the page shows to a failure.
async function explain(page, f) {
  try { await f(); } catch (e) {
    const text = await page.locator('body').innerText().catch(() => '(no page)');
    e.message += `\n--- the page (${page.url()}) shows:\n${text.slice(0, 3000)}\n--- problems: ${(page.problems || []).join("; ")}`;
    e.message += `\n--- sockets:\n${(page.frames$ || []).join('\n').slice(-4000)}`;
    e.message += `\n--- the server's log ends:\n${readFileSync(join(work, 'server.log'), 'utf8').slice(-3000)}`;
    throw e;
  }
}

// newPage opens a tab that fails the test on a page error or a CSP report
// (options: playwright's, e.g. the browser's timezoneId).
async function newPage(options) {
  const page = await browser.newPage();
  // A persistent context takes no per-page options: the timezone is
  // emulated through the DevTools protocol.
  if (options?.timezoneId) await (await browser.newCDPSession(page)).send('Emulation.setTimezoneOverride', { timezoneId: options.timezoneId });
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push('CSP: ' + m.text()); });
  page.problems = problems;
  page.frames$ = [];
  page.on('websocket', (ws) => {
    page.frames$.push('open ' + ws.url());
    ws.on('framesent', (f) => page.frames$.push('> ' + String(f.payload).slice(0, 200)));
    ws.on('framereceived', (f) => page.frames$.push('< ' + String(f.payload).slice(0, 200)));
    ws.on('socketerror', (e) => page.frames$.push('error ' + e));
    ws.on('close', () => page.frames$.push('close'));
  });
  return page;
}

// accessible runs axe-core in the page: no serious or critical violation.
async function accessible(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`), [], `accessibility of ${what}`);
  assert.deepEqual(page.problems, [], `errors on ${what}`);
}

// fitsPhone checks the page has no sideways scrolling at a phone's width.
async function fitsPhone(page, what) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow}px at 390px wide`);
  await page.setViewportSize(size);
}

// soon moves an event to start in an hour (three hours long): its door is
// open for check-in, from two hours before the start to the end. The start.
async function soon(eventId) {
  const start = new Date(Math.floor((Date.now() + 36e5) / 6e4) * 6e4);
  await service(`mutation($id: ID!, $in: EventInput!) { updateEvent(id: $id, input: $in) { id } }`, { id: eventId,
    in: { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 3 * 36e5).toISOString(), rsvpClosesAt: start.toISOString() } });
  return start;
}

async function signIn(page, email) {
  await page.goto(base + '/console');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function open(page, name) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

test('/console answers with its Content-Security-Policy', async () => {
  const res = await fetch(base + '/console/');
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, new RegExp(`connect-src 'self' ws://${base.slice(7)}`));
});

test('GraphiQL runs in development from local assets', async () => {
  const page = await newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
  await explain(page, async () => {
      await page.goto(base + '/graphiql');
      await page.locator('.graphiql-container').waitFor();
      assert.deepEqual(outside, [], 'GraphiQL loads nothing from elsewhere');
  });
  await page.close();
});

test('a CUSTOMER who opens the console is told it is for staff and sees nothing else', async () => {
  const ann = await signUp('Annie');
  const page = await newPage();
  await explain(page, async () => {
    await signIn(page, ann.email);
    await page.getByRole('heading', { name: 'This console is for staff' }).waitFor();
    assert.equal(await page.getByRole('navigation').count(), 0, 'a customer sees no page of the console');
    assert.equal(await page.getByRole('link').count(), 0);
    await accessible(page, 'the staff-only notice');
  });
  await page.close();
});

test('a BRAND user watching a full event sees its counts move live, the waitlist too', async () => {
  const brand = await signUp('Wes', ['BRAND']);
  const members = [];
  for (const name of ['Una', 'Vic', 'Wyn']) members.push(await signUp(name));
  const start = new Date(Date.now() + 72 * 3600e3);
  start.setUTCSeconds(0, 0);
  const ev = (await service(`mutation($in: EventInput!) { createEvent(input: $in) { id } }`, { in: { title: 'Full house', place: { venue: 'Back room', address: '3 Side Street' },
    startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 2 * 3600e3).toISOString(), timezone: 'Europe/Paris', capacity: 1, guestsPerMember: 0 } })).createEvent;
  await service(`mutation($id: ID!) { publishEvent(id: $id) { status } }`, { id: ev.id });
  const page = await newPage();
  // Reads of the event itself (not of its attendee list): the counts must
  // come over the socket, not from reading the event again.
  const reads = [];
  page.on('request', (r) => { if (r.url().endsWith('/graphql') && /capacity seatsLeft/.test(r.postData() || '')) reads.push(r); });
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.evaluate((id) => { location.hash = '#/events/' + encodeURIComponent(id); }, ev.id);
    await page.getByRole('heading', { level: 1, name: 'Full house' }).waitFor();
    await page.getByText('Counts update live.').waitFor();
    const readsBefore = reads.length;
    const rsvp = (m, k) => api(m.bearer, `mutation($e: ID!, $k: String!) { rsvp(eventId: $e, idempotencyKey: $k) { status } }`, { e: ev.id, k });
    assert.equal((await rsvp(members[0], 'una')).rsvp.status, 'CONFIRMED');
    await page.locator('[data-count="confirmed"]', { hasText: /^1$/ }).waitFor();
    await page.locator('[data-count="seatsLeft"]', { hasText: /^0 of 1$/ }).waitFor();
    assert.equal((await rsvp(members[1], 'vic')).rsvp.status, 'WAITLISTED');
    await page.locator('[data-count="waitlisted"]', { hasText: /^1$/ }).waitFor();
    assert.equal((await rsvp(members[2], 'wyn')).rsvp.status, 'WAITLISTED');
    await page.locator('[data-count="waitlisted"]', { hasText: /^2$/ }).waitFor();
    assert.equal(reads.length, readsBefore, 'the counts came over the socket');
    // The attendee list follows too: the waitlist in order.
    await page.getByLabel('Show').selectOption('WAITLISTED');
    await page.getByRole('cell', { name: 'Wyn' }).waitFor();
    await page.getByRole('cell', { name: 'Vic' }).waitFor();
    await accessible(page, 'a full event with its waitlist');
  });
  await page.close();
});

test('a BRAND user gets empty and malformed program values at their fields, nothing saved, and reads the program again after a conflict, a first save too', async () => {
  const brand = await signUp('Yara', ['BRAND']);
  const page = await newPage();
  const ESCALATION = 'Escalation (multipliers of the 2nd, 3rd… purchase, comma-separated)';
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // The program was never saved (version 0, the defaults): a colleague's
    // first save lands while the form is open here, and the first save
    // here is refused, not written over theirs.
    const first = (await service('{ program { version checkInPoints } }')).program;
    assert.equal(first.version, 0, 'no test before this one saves the program');
    await open(page, 'Program');
    await page.getByText('Version 0.').waitFor();
    await service(`mutation($p: Int!) { updateProgram(input: { checkInPoints: $p }) { version } }`, { p: first.checkInPoints + 1 });
    await page.getByLabel('Review points').fill('4');
    await page.getByRole('button', { name: 'Save program' }).click();
    await page.getByText(/at version 1, not 0/).waitFor();
    assert.equal((await service('{ program { version checkInPoints } }')).program.checkInPoints, first.checkInPoints + 1, 'the colleague\'s first save kept');
    await page.getByRole('button', { name: 'Read the program again' }).click();
    await page.getByText('Version 1.').waitFor();
    await service(`mutation($p: Int!) { updateProgram(input: { checkInPoints: $p }) { version } }`, { p: first.checkInPoints });
    const before = (await service('{ program { version pointsPerUnit checkInPoints escalation } }')).program;
    const atField = async (label, pattern) => {
      const control = page.getByLabel(label, { exact: true });
      const err = page.locator('.field.has-error', { has: control }).locator('.field-error');
      await err.waitFor();
      assert.match(await err.textContent(), pattern, label);
      assert.equal(await control.getAttribute('aria-invalid'), 'true', label);
      assert.equal(await page.locator('.actions .error').count(), 0, `no error by the Save button (${label})`);
    };
    // Points per unit left empty: required, at the field; nothing saved.
    const perUnit = page.getByLabel('Points per unit of currency');
    await perUnit.fill('');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Points per unit of currency', /required/);
    await perUnit.fill('99999999999999999999');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Points per unit of currency', /whole number/);
    await perUnit.fill(String(before.pointsPerUnit));
    // A tier's threshold left empty: required at that tier's field.
    const threshold = page.getByLabel('Tier 1 threshold', { exact: true });
    const kept = await threshold.inputValue();
    await threshold.fill('');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Tier 1 threshold', /required/);
    await threshold.fill(kept);
    // An escalation that is not whole numbers: at the Escalation field, not a coercion message.
    for (const bad of ['2, abc', '2, 1.5']) {
      await page.getByLabel(ESCALATION).fill(bad);
      await page.getByRole('button', { name: 'Save program' }).click();
      await atField(ESCALATION, /not a whole number/);
    }
    await accessible(page, 'the program form with an escalation error');
    assert.equal((await service('{ program { version } }')).program.version, before.version, 'nothing saved');
    await page.getByLabel(ESCALATION).fill(before.escalation.join(', '));

    // A colleague saves first again: the save here is refused, and the button
    // reads the program again into the form, which then saves.
    const theirs = before.checkInPoints + 7;
    await service(`mutation($p: Int!) { updateProgram(input: { checkInPoints: $p }) { version } }`, { p: theirs });
    await page.getByLabel('Review points').fill('3');
    await page.getByRole('button', { name: 'Save program' }).click();
    await page.getByText(/at version \d+, not \d+/).waitFor();
    await page.getByRole('button', { name: 'Read the program again' }).click();
    await page.getByText(`Version ${before.version + 1}.`).waitFor();
    assert.equal(await page.getByLabel('Check-in points').inputValue(), String(theirs), 'the form shows the colleague\'s change');
    assert.equal(await page.getByText(/at version \d+, not \d+/).count(), 0, 'the conflict is gone');
    assert.equal(await page.getByRole('button', { name: 'Read the program again' }).count(), 0);
    await page.getByRole('button', { name: 'Save program' }).click();
    await page.getByRole('status').filter({ hasText: `Saved as version ${before.version + 2}.` }).waitFor();
    assert.equal((await service('{ program { checkInPoints } }')).program.checkInPoints, theirs, 'their change kept');
    await service(`mutation($p: Int!) { updateProgram(input: { checkInPoints: $p }) { version } }`, { p: before.checkInPoints });
    await accessible(page, 'the program form read again');
  });
  await page.close();
});

test('a BRAND user gets an empty amount, cost or end, and a missing place, at the field', async () => {
  const brand = await signUp('Zoe', ['BRAND']);
  const member = await signUp('Zeke');
  const page = await newPage();
  const atField = async (label, pattern) => {
    const control = page.getByLabel(label, { exact: true });
    const err = page.locator('.field.has-error', { has: control }).locator('.field-error');
    await err.waitFor();
    assert.match(await err.textContent(), pattern, label);
    assert.equal(await control.getAttribute('aria-invalid'), 'true', label);
    assert.equal(await page.locator('p.error').count(), 0, `the error is at the field only (${label})`);
  };
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // Adjust points with no amount.
    await page.evaluate((id) => { location.hash = '#/members/' + encodeURIComponent(id); }, member.id);
    await page.getByRole('heading', { level: 1, name: 'Zeke' }).waitFor();
    await page.getByLabel('Reason (the member sees it)').fill('Goodwill');
    await page.getByRole('button', { name: 'Adjust points' }).click();
    await atField('Points (negative to deduct)', /required/);
    await accessible(page, 'a member profile with an adjustment error');
    // A reward with no cost.
    await open(page, 'Rewards');
    await page.getByLabel('Name', { exact: true }).fill('Costless');
    await page.getByRole('button', { name: 'Create reward' }).click();
    await atField('Cost (points)', /required/);
    // An offer whose end was cleared.
    await open(page, 'Offers');
    await page.getByLabel('Title').fill('Endless');
    await page.getByLabel('Message').fill('No end given');
    await page.getByLabel('Benefit value').fill('');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await atField('Benefit value', /required/);
    await page.getByLabel('Benefit value').fill('10');
    await page.getByLabel('Ends', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await atField('Ends', /required/);
    await accessible(page, 'the offers page with an end error');
    // An event with neither venue nor address, then one whose end was cleared.
    await open(page, 'Events');
    await page.getByLabel('Title').fill('Nowhere');
    await page.getByRole('button', { name: 'Create event' }).click();
    await atField('Venue', /venue/);
    await atField('Address', /venue/);
    await accessible(page, 'the events page with a place error');
    await page.getByLabel('Venue').fill('Back room');
    await page.getByLabel('Address').fill('3 Side Street');
    await page.getByLabel('Ends', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Create event' }).click();
    await atField('Ends', /required/);
    const written = await service('{ brandEvents(first: 50) { edges { node { title } } } }');
    assert.ok(!written.brandEvents.edges.some((e) => e.node.title === 'Nowhere'), 'no event written');
  });
  await page.close();
});

test('a BRAND user gets a number the API cannot take (too large, a fraction, an exponent) at its field on every form, nothing written', async () => {
  const brand = await signUp('Ivo', ['BRAND']);
  const member = await signUp('Ike');
  const page = await newPage();
  const atField = async (label, pattern = /whole number between -2147483647 and 2147483647/) => {
    const control = page.getByLabel(label, { exact: true });
    const err = page.locator('.field.has-error', { has: control }).locator('.field-error');
    await err.waitFor();
    assert.match(await err.textContent(), pattern, label);
    assert.equal(await control.getAttribute('aria-invalid'), 'true', label);
    assert.equal(await page.locator('p.error').count(), 0, `the error is at the field only (${label})`);
  };
  // bad fills label with value, submits with button and expects the error at label.
  const bad = async (label, value, button) => {
    await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: button }).click();
    await atField(label);
  };
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.evaluate((id) => { location.hash = '#/members/' + encodeURIComponent(id); }, member.id);
    await page.getByRole('heading', { level: 1, name: 'Ike' }).waitFor();
    await page.getByLabel('Reason (the member sees it)').fill('Goodwill');
    await bad('Points (negative to deduct)', '99999999999999999999', 'Adjust points');
    await bad('Points (negative to deduct)', '2.5', 'Adjust points');

    await open(page, 'Rewards');
    await page.getByLabel('Name', { exact: true }).fill('Huge');
    await bad('Cost (points)', '1e30', 'Create reward');
    await page.getByLabel('Cost (points)').fill('10');
    await bad('Stock (empty: unlimited)', '99999999999999999999', 'Create reward');
    await page.getByLabel('Stock (empty: unlimited)').fill('');
    await bad('Per-member limit (0: none)', '2.5', 'Create reward');
    await page.getByLabel('Badge name').fill('Huge badge');
    await bad('Level threshold', '1e30', 'Create badge');
    await accessible(page, 'the rewards page with a number error');

    await open(page, 'Offers');
    await page.getByLabel('Title').fill('Huge offer');
    await page.getByLabel('Message').fill('Too much');
    await bad('Benefit value', '99999999999999999999', 'Create offer');
    await page.getByLabel('Benefit value').fill('10');
    await bad('Holdout (%)', '2.5', 'Create offer');
    await page.getByLabel('Holdout (%)').fill('0');
    await bad('Inactive for (days)', '1e30', 'Create offer');

    await open(page, 'Events');
    await page.getByLabel('Title').fill('Huge event');
    await page.getByLabel('Venue').fill('Back room');
    await page.getByLabel('Address').fill('1 Broadway');
    await bad('Seats', '99999999999999999999', 'Create event');
    await page.getByLabel('Seats').fill('10');
    await bad('Guests per member', '2.5', 'Create event');
    await accessible(page, 'the events page with a number error');
    // -0 is 0: accepted.
    await page.getByLabel('Guests per member').fill('-0');
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.getByText('Created “Huge event” as a draft.').waitFor();
  });
  await page.close();
  const d = await service(`query($id: ID!) { member(id: $id) { points { balance } } rewards(first: 50) { edges { node { name } } }
    brandOffers(first: 50) { edges { node { title } } } badges { name } }`, { id: member.id });
  assert.equal(d.member.points.balance, 0, 'no points adjusted');
  assert.ok(!d.rewards.edges.some((e) => e.node.name === 'Huge'), 'no reward written');
  assert.ok(!d.brandOffers.edges.some((e) => e.node.title === 'Huge offer'), 'no offer written');
  assert.ok(!d.badges.some((b) => b.name === 'Huge badge'), 'no badge written');
});

test('a BRAND user in Paris enters an event in New York at 19:00 New York and sees it at 19:00 (America/New_York) on every page', async () => {
  const brand = await signUp('Tess', ['BRAND']);
  const guest = await signUp('Teo');
  const year = new Date().getUTCFullYear() + 1;
  const page = await newPage({ timezoneId: 'Europe/Paris' });
  const at19 = /19:00 \(America\/New_York\)/;
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    assert.equal(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), 'Europe/Paris', 'the browser is in Paris');
    await open(page, 'Events');
    await page.getByLabel('Title').fill('Manhattan night');
    await page.getByLabel('Venue').fill('Loft');
    await page.getByLabel('Address').fill('1 Broadway');
    await page.getByLabel('Timezone').fill('America/New_York');
    await page.getByLabel('Starts', { exact: true }).fill(`${year}-01-15T19:00`);
    await page.getByLabel('Ends', { exact: true }).fill(`${year}-01-15T22:00`);
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.getByText('Created “Manhattan night” as a draft.').waitFor();
    const ev = (await service('{ brandEvents(first: 50) { edges { node { id title startsAt endsAt timezone } } } }')).brandEvents.edges.map((e) => e.node).find((e) => e.title === 'Manhattan night');
    assert.equal(new Date(ev.startsAt).toISOString(), `${year}-01-16T00:00:00.000Z`, '19:00 in New York in winter is midnight UTC');
    assert.equal(new Date(ev.endsAt).toISOString(), `${year}-01-16T03:00:00.000Z`);
    assert.equal(ev.timezone, 'America/New_York');
    const row = page.getByRole('row', { name: /Manhattan night/ });
    assert.match(await row.innerText(), at19, 'the list shows the event\'s wall time');
    // An unknown timezone is named at its field.
    await page.getByLabel('Title').fill('Nowhere night');
    await page.getByLabel('Venue').fill('Loft');
    await page.getByLabel('Address').fill('1 Broadway');
    await page.getByLabel('Timezone').fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.locator('.field.has-error', { has: page.getByLabel('Timezone') }).getByText(/not a timezone/).waitFor();

    await service(`mutation($e: ID!) { publishEvent(id: $e) { id } }`, { e: ev.id });
    await api(guest.bearer, `mutation($e: ID!) { rsvp(eventId: $e, idempotencyKey: "teo-1") { status } }`, { e: ev.id });
    const code = (await api(guest.bearer, `query($e: ID!) { event(id: $e) { myRsvp { doorCode } } }`, { e: ev.id })).event.myRsvp.doorCode;
    await row.getByRole('link', { name: 'Manhattan night' }).click();
    await page.getByRole('heading', { level: 1, name: 'Manhattan night' }).waitFor();
    assert.match(await page.locator('.page > p.muted').first().innerText(), at19, 'the event page shows the event\'s wall time');
    await page.locator('#main').getByRole('link', { name: 'Door check-in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Door check-in' }).waitFor();
    const option = page.getByLabel('Event', { exact: true }).locator('option', { hasText: 'Manhattan night' });
    await option.waitFor({ state: 'attached' });
    assert.match(await option.innerText(), at19, 'the door list shows the event\'s wall time');
    await page.getByLabel('Event', { exact: true }).selectOption(ev.id);
    // Weeks early the door is closed, and says when it opens, in the event's wall time: no one checked in, no points.
    await page.getByLabel('Check-in code').fill(code);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByRole('alert').filter({ hasText: new RegExp(`check-in opens at 17:00 \\(America/New_York\\) on \\w{3} 15 Jan ${year}`) }).waitFor();
    assert.equal((await api(guest.bearer, `query($e: ID!) { event(id: $e) { myRsvp { status } } }`, { e: ev.id })).event.myRsvp.status, 'CONFIRMED', 'nothing written');
    await accessible(page, 'the door refusing a check-in weeks early');
    const start = await soon(ev.id);
    const wallNY = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(start);
    await page.getByLabel('Check-in code').fill(code);
    await page.getByRole('button', { name: 'Check in' }).click();
    const done = page.locator('.checked-in');
    await done.waitFor();
    const zoned = /at \w{3} \d+, \d{4}, \d\d:\d\d \(America\/New_York\)/;
    assert.match(await done.innerText(), zoned);
    await page.getByLabel('Check-in code').fill(code);
    await page.getByRole('button', { name: 'Check in' }).click();
    const again = page.getByText(/^Teo: already checked in at/);
    await again.waitFor();
    assert.match(await again.innerText(), zoned, 'a second scan names the first in the event\'s wall time, not UTC');
    // The attendee's profile lists the event at its wall time too.
    await page.evaluate((id) => { location.hash = '#/members/' + encodeURIComponent(id); }, guest.id);
    const attendedRow = page.getByRole('region', { name: 'Events' }).getByRole('row', { name: /Manhattan night/ });
    await attendedRow.waitFor();
    assert.match(await attendedRow.innerText(), new RegExp(`${wallNY} \\(America/New_York\\)`), 'the member profile shows the event\'s wall time (moved to start in an hour)');
  });
  await page.close();
});

test('a BRAND user stays signed in across a reload and when the access token is renewed', async () => {
  const brand = await signUp('Rhea', ['BRAND']);
  const page = await newPage();
  await explain(page, async () => {
    await page.clock.install(); // the page's clock, to bring the token's renewal forward
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // Fifteen minutes on, the access token is due: the next read renews it
    // with the refresh token and goes on, still signed in.
    await page.clock.fastForward('15:00');
    await open(page, 'Program');
    await page.getByLabel('Points per unit of currency').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0, 'the renewal signed the user out');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Program' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0, 'a reload after the renewal signed the user out');
    // The session ends elsewhere (signed out in another tab: the refresh
    // token is revoked). At the next renewal the page goes back to the
    // sign-in form, not to a page of "token invalid or expired".
    const rt = await page.evaluate(() => sessionStorage.getItem('regulars.console.refreshToken'));
    await api('', `mutation($t: String!) { logOut(refreshToken: $t) }`, { t: rt });
    await page.clock.fastForward('15:00');
    // Not open(): it waits for the Offers heading, which may never come.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Offers', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // …saying why, so nobody wonders where their work went.
    await page.getByRole('status').filter({ hasText: 'Your session ended' }).waitFor();
  });
  await page.close();
});

test('a duplicated tab shares its session: both tabs renew their tokens, one after the other and at once, and stay signed in', async () => {
  const brand = await signUp('Dot', ['BRAND']);
  const [first, copy] = [await newPage(), await newPage()];
  await explain(first, async () => {
    await first.clock.install();
    await signIn(first, brand.email);
    await first.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // Duplicating a tab copies its sessionStorage, the refresh token with it.
    const stored = await first.evaluate(() => ({ ...sessionStorage }));
    await copy.clock.install();
    await copy.addInitScript((items) => {
      if (location.pathname.startsWith('/console') && sessionStorage.length === 0) for (const [k, v] of Object.entries(items)) sessionStorage.setItem(k, v);
    }, stored);
    await copy.goto(base + '/console');
    await copy.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // Each tab's access token comes due in turn: each renews with the
    // session's newest refresh token (never one the other tab spent, which
    // would revoke the session in both).
    await first.clock.fastForward('15:00');
    await open(first, 'Program');
    await copy.clock.fastForward('15:00');
    await open(copy, 'Program');
    // Both at once.
    await first.clock.fastForward('15:00');
    await copy.clock.fastForward('15:00');
    await Promise.all([open(first, 'Offers'), open(copy, 'Offers')]);
    for (const page of [first, copy]) {
      assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0, 'a tab was signed out');
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Offers' }).waitFor();
    }
    const tokens = await Promise.all([first, copy].map((p) => p.evaluate(() => sessionStorage.getItem('regulars.console.refreshToken'))));
    assert.equal(tokens[0], tokens[1], 'the tabs hold the session\'s newest refresh token');
    await open(first, 'Dashboard');
    await open(copy, 'Dashboard');
  });
  await first.close();
  await copy.close();
});

// answered records in the page the body of each API request whose answer
// the console has read (window.answered), so a test knows when a late
// answer reached the page's code.
const answered = () => {
  window.answered = [];
  const f = window.fetch;
  window.fetch = async (url, init) => {
    const res = await f(url, init);
    const json = res.json.bind(res);
    res.json = async () => { try { return await json(); } finally { window.answered.push(String(init?.body ?? '')); } };
    return res;
  };
};

// hold holds the page's API requests matching re until the returned
// release() is called; reached resolves when one was sent.
async function hold(page, re) {
  let release, seen;
  const held = new Promise((r) => { release = r; });
  const reached = new Promise((r) => { seen = r; });
  await page.route('**/graphql', async (route) => {
    if (re.test(route.request().postData() || '')) { seen(); await held; }
    await route.continue();
  });
  return { release, reached };
}

test('a list never shows the rows of another query: a new search or queue starts empty, a refused search shows its error alone, a late answer is dropped', async () => {
  const brand = await signUp('Stella', ['BRAND']);
  const [quill, quinn] = [await signUp('Quillon'), await signUp('Quinny')];
  const space = (await service(`mutation($in: SpaceInput!) { createSpace(input: $in) { id } }`,
    { in: { name: 'Stale rows', description: 'Lists and their queries' } })).createSpace;
  const thread = (await api(quill.bearer, `mutation($s: ID!) { createThread(spaceId: $s, input: { title: "Ink", body: "Which ink for a fountain pen?" }) { id } }`, { s: space.id })).createThread;
  const r1 = (await api(quinn.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Buy my pens at example dot com" }) { id } }`, { t: thread.id })).reply;
  const r2 = (await api(quinn.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Cheap nibs at example dot com" }) { id } }`, { t: thread.id })).reply;
  for (const p of [r1, r2]) await api(quill.bearer, `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { id } }`, { p: p.id });
  await service(`mutation($p: ID!) { moderatePost(postId: $p, action: HIDE, reason: "spam", pendingReview: true) { id } }`, { p: r2.id });
  const page = await newPage();
  await page.addInitScript(answered);
  await explain(page, async () => {
    await signIn(page, brand.email);
    await open(page, 'Members');
    const search = async (q) => {
      await page.getByLabel('Search by email, name or member id').fill(q);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
    };
    const rows = page.locator('tbody tr');
    await search('Quillon');
    await page.getByRole('link', { name: 'Quillon' }).waitFor();
    // A refused search shows its error and no rows (not the last search's).
    await search('Q');
    await page.getByRole('alert').filter({ hasText: /2 to 100 characters/ }).waitFor();
    assert.equal(await rows.count(), 0, 'the rows of the previous search stay under the error');
    await search('Quillon');
    await page.getByRole('link', { name: 'Quillon' }).waitFor();
    // A search whose answer comes after the next one's: dropped.
    const late = await hold(page, /members\(search.*"Quinny"/);
    await search('Quinny');
    await late.reached;
    await page.getByRole('status').filter({ hasText: 'Loading…' }).waitFor();
    assert.equal(await rows.count(), 0, 'a new search shows the last one\'s rows while it loads');
    await search('Quillon');
    await page.getByRole('link', { name: 'Quillon' }).waitFor();
    await page.evaluate(() => { window.answered = []; });
    late.release();
    await page.waitForFunction(() => window.answered.some((b) => b.includes('"Quinny"')));
    assert.equal(await page.getByRole('link', { name: 'Quinny' }).count(), 0, 'the late answer of an old search replaced the current one');
    assert.equal(await page.getByRole('link', { name: 'Quillon' }).count(), 1);
    await page.unrouteAll();

    // The review queue, PENDING to RESOLVED: no pending row while the
    // resolved ones load.
    await open(page, 'Moderation');
    await page.getByLabel('Space', { exact: true }).selectOption({ label: 'Stale rows' });
    await page.locator(`.review[data-post="${r1.id}"]`).waitFor();
    const slow = await hold(page, /reviewQueue.*"RESOLVED"/);
    await page.getByLabel('Show').selectOption('RESOLVED');
    await slow.reached;
    await page.getByRole('status').filter({ hasText: 'Loading…' }).waitFor();
    assert.equal(await page.locator('.review').count(), 0, 'the pending rows stay while the resolved ones load');
    slow.release();
    await page.locator(`.review[data-post="${r2.id}"]`).waitFor();
    assert.equal(await page.locator(`.review[data-post="${r1.id}"]`).count(), 0);
    await page.unrouteAll();
  });
  await page.close();
});

test('a BRAND user in Paris reads every time in the program\'s timezone, labelled: joined, ledger, posts, silences, the audit log, the dashboard', async () => {
  const brand = await signUp('Tilda', ['BRAND']);
  const [tess, uma] = [await signUp('Tesselate'), await signUp('Umbra')];
  const { programTimezone: tz } = await service('{ programTimezone }');
  assert.notEqual(tz, 'Europe/Paris', 'the program is in another zone than the browser');
  // hm is an instant's wall time in the program's zone, with its label.
  const hm = (s) => new RegExp(`${new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(s))} \\(${tz.replace('/', '\\/')}\\)`);
  await service(`mutation($id: ID!) { adjustPoints(memberId: $id, amount: 30, reason: "Zone check", idempotencyKey: "tess-zone") { amount } }`, { id: tess.id });
  const m = (await service(`query($id: ID!) { member(id: $id) { createdAt points { ledger(first: 1) { edges { node { createdAt } } } } } }`, { id: tess.id })).member;
  const space = (await service(`mutation($in: SpaceInput!) { createSpace(input: $in) { id } }`, { in: { name: 'Zones', description: 'Times and places' } })).createSpace;
  const thread = (await api(tess.bearer, `mutation($s: ID!) { createThread(spaceId: $s, input: { title: "Clocks", body: "What time is it there?" }) { id } }`, { s: space.id })).createThread;
  const reply = (await api(uma.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Cheap clocks at example dot com" }) { id createdAt } }`, { t: thread.id })).reply;
  await api(tess.bearer, `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { id } }`, { p: reply.id });
  const silence = (await service(`mutation($m: ID!, $s: ID) { sanctionMember(memberId: $m, spaceId: $s, kind: SILENCE, durationMinutes: 1440, reason: "Clock spam") { until } }`, { m: uma.id, s: space.id })).sanctionMember;
  const page = await newPage({ timezoneId: 'Europe/Paris' });
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const asOf = page.getByText(/Figures as of/);
    await asOf.waitFor();
    const figures = await asOf.innerText();
    assert.ok(/the next rollup/.test(figures) || figures.includes(`(${tz})`), 'the figures\' time is labelled: ' + figures);

    await page.goto(base + '/console#/members/' + encodeURIComponent(tess.id));
    await page.getByRole('heading', { level: 1, name: 'Tesselate' }).waitFor();
    await page.getByText(/joined/).filter({ hasText: hm(m.createdAt) }).waitFor();
    const entry = page.getByRole('row').filter({ hasText: 'Zone check' });
    await entry.waitFor();
    assert.match(await entry.innerText(), hm(m.points.ledger.edges[0].node.createdAt), 'a ledger entry\'s time');

    await open(page, 'Moderation');
    await page.getByLabel('Space', { exact: true }).selectOption({ label: 'Zones' });
    const item = page.locator(`.review[data-post="${reply.id}"]`);
    await item.waitFor();
    assert.match(await item.getByText(/^Post #2 by/).innerText(), hm(reply.createdAt), 'a post\'s time');
    assert.match(await item.getByRole('list', { name: 'Sanctions of Umbra' }).innerText(), hm(silence.until), 'a silence\'s end');
    const logRow = page.getByRole('row').filter({ hasText: 'Clock spam' });
    await logRow.waitFor();
    assert.ok((await logRow.innerText()).includes(`(${tz})`), 'the audit log\'s time is labelled');
    await item.getByRole('link', { name: 'Clocks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Clocks' }).waitFor();
    assert.match(await page.locator(`[data-post="${reply.id}"]`).getByText(/^#2 by/).innerText(), hm(reply.createdAt), 'a post\'s time in its thread');
    await accessible(page, 'times in the program\'s timezone');
  });
  await page.close();
});

test('a BRAND user edits the program, creates a reward, publishes an offer and an event, and checks an attendee in', async () => {
  const brand = await signUp('Bree', ['BRAND']);
  const customers = [];
  for (const name of ['Carla', 'Dmitri', 'Esme']) customers.push(await signUp(name));
  // Purchases over the last months, for the dashboard's figures.
  const plan = [[0, [150, 90, 40, 1]], [1, [120, 60, 2]], [2, [75, 30, 3]]];
  for (const [who, daysAgo] of plan) {
    for (const [i, d] of daysAgo.entries()) {
      await service(`mutation($in: RecordActivityInput!) { recordActivity(input: $in) { points } }`, { in: {
        memberId: customers[who].id, kind: 'PURCHASE', externalId: `order-${who}-${i}`, amountMinor: 1500 + 700 * i + 300 * who, currency: 'USD',
        occurredAt: new Date(Date.now() - d * 864e5).toISOString() } });
    }
  }
  // A browser in another timezone than the program's (UTC here): the
  // dashboard asks in the program's, the only one the figures are kept in.
  const page = await newPage({ timezoneId: 'Europe/Paris' });
  await explain(page, async () => {
    await signIn(page, brand.email);

    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByText('Points liability').waitFor();
    assert.equal(await page.getByLabel('Timezone').inputValue(), (await service('{ program { timezone } }')).program.timezone);
    await accessible(page, 'the dashboard');
    await fitsPhone(page, 'the dashboard');

    // Program: a bad value gets the API's error at its field; a good one saves.
    await open(page, 'Program');
    const perUnit = page.getByLabel('Points per unit of currency');
    await perUnit.fill('-5');
    await page.getByRole('button', { name: 'Save program' }).click();
    const fieldError = page.locator('.field.has-error', { has: perUnit }).locator('.field-error');
    await fieldError.waitFor();
    assert.match(await fieldError.textContent(), /^Points per unit of currency: must be between 0 and/);
    assert.equal(await perUnit.getAttribute('aria-invalid'), 'true');
    await accessible(page, 'the program form with a field error');
    await perUnit.fill('12');
    await page.getByRole('button', { name: 'Save program' }).click();
    await page.getByRole('status').filter({ hasText: /Saved as version \d+/ }).waitFor();
    assert.equal((await service('{ program { pointsPerUnit } }')).program.pointsPerUnit, 12);

    // Tiers, escalation, promotions and campaigns with their holdout: each bad value gets its error at its field.
    const tiersBefore = (await service('{ program { tiers { name threshold } } }')).program.tiers;
    const n = tiersBefore.length + 1;
    await page.getByRole('button', { name: 'Add a tier' }).click();
    await page.getByLabel(`Tier ${n} name`).fill('Platinum');
    await page.getByLabel(`Tier ${n} threshold`).fill('1');
    await page.getByLabel(`Tier ${n} benefits`).fill('free_delivery, lounge');
    await page.getByRole('button', { name: 'Save program' }).click();
    const atField = async (label, pattern) => {
      const control = page.getByLabel(label, { exact: true });
      const err = page.locator('.field.has-error', { has: control }).locator('.field-error');
      await err.waitFor();
      assert.match(await err.textContent(), pattern, label);
      // Named by its label, never by the API's path (tiers[3].threshold).
      assert.ok((await err.textContent()).includes(label) && !/\w(\[\d+\]|\.\w+)+: /.test(await err.textContent()), `${label}: ${await err.textContent()}`);
      assert.equal(await control.getAttribute('aria-invalid'), 'true', label);
    };
    await atField(`Tier ${n} threshold`, /above the previous tier/);
    await accessible(page, 'the program form with a tier error');
    await page.getByLabel(`Tier ${n} threshold`).fill('900000');
    await page.getByLabel('Escalation (multipliers of the 2nd, 3rd… purchase, comma-separated)').fill('2, 0');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Escalation (multipliers of the 2nd, 3rd… purchase, comma-separated)', /multiplier from 1 to 10/);
    await page.getByLabel('Escalation (multipliers of the 2nd, 3rd… purchase, comma-separated)').fill('2, 3');
    await page.getByLabel('Campaign holdout (%)').fill('80');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Campaign holdout (%)', /between 0 and 50/);
    await page.getByLabel('Campaign holdout (%)').fill('20');
    await page.getByLabel('Win-back', { exact: true }).check();
    await page.getByLabel('Win-back: after days without a purchase').fill('45');
    await page.getByRole('button', { name: 'Add a promotion' }).click();
    await page.getByLabel('Promotion 1 id').fill('spring');
    await page.getByLabel('Promotion 1 name').fill('Spring bonus');
    await page.getByLabel('Promotion 1 ends').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Promotion 1 ends', /after the start/);
    await page.getByLabel('Promotion 1 ends').fill('2099-01-01T00:00');
    // What tiers count, and the referral rules: the API's error at the referral field it names.
    await page.getByLabel('Tiers count').selectOption('SPEND');
    await page.getByLabel('Referrer reward (points)').fill('300');
    await page.getByLabel('Rewarded referrals per referrer a month (0: no cap)').fill('20000');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Rewarded referrals per referrer a month (0: no cap)', /between 0 and 10000/);
    await accessible(page, 'the program form with a referral error');
    await page.getByLabel('Rewarded referrals per referrer a month (0: no cap)').fill('5');
    await page.getByLabel('Qualifying purchase at least (minor units)').fill('-1');
    await page.getByRole('button', { name: 'Save program' }).click();
    await atField('Qualifying purchase at least (minor units)', /between 0 and/);
    await page.getByLabel('Qualifying purchase at least (minor units)').fill('1500');
    await page.getByRole('button', { name: 'Save program' }).click();
    await page.getByRole('status').filter({ hasText: /Saved as version \d+/ }).waitFor();
    const saved = (await service('{ program { escalation tierBasis referral { referrerPoints minPurchaseMinor monthlyCap } tiers { name threshold benefits } promotions { id name } campaigns { winBack winBackDays holdoutPercent } } }')).program;
    assert.deepEqual(saved.escalation, [2, 3]);
    assert.equal(saved.tierBasis, 'SPEND');
    assert.deepEqual(saved.referral, { referrerPoints: 300, minPurchaseMinor: 1500, monthlyCap: 5 });
    assert.deepEqual(saved.tiers.at(-1), { name: 'Platinum', threshold: 900000, benefits: ['free_delivery', 'lounge'] });
    assert.deepEqual(saved.promotions.map((x) => x.id), ['spring']);
    assert.deepEqual(saved.campaigns, { winBack: true, winBackDays: 45, holdoutPercent: 20 });
    // Back to points earned: the form shows what the API returned and saves it again.
    assert.equal(await page.getByLabel('Tiers count').inputValue(), 'SPEND');
    const version = (await service('{ program { version } }')).program.version;
    await page.getByLabel('Tiers count').selectOption('POINTS_EARNED');
    await page.getByRole('button', { name: 'Save program' }).click();
    await page.getByRole('status').filter({ hasText: `Saved as version ${version + 1}.` }).waitFor();
    assert.equal((await service('{ program { tierBasis } }')).program.tierBasis, 'POINTS_EARNED');
    await accessible(page, 'the program form saved');
    await fitsPhone(page, 'the program form');

    // Rewards: create one; it is in the catalog.
    await open(page, 'Rewards');
    await page.getByLabel('Name', { exact: true }).fill('Free espresso');
    await page.getByLabel('Description', { exact: true }).fill('One espresso at any store');
    await page.getByLabel('Cost (points)').fill('150');
    await page.getByLabel('Stock (empty: unlimited)').fill('40');
    await page.getByRole('button', { name: 'Create reward' }).click();
    await page.getByRole('cell', { name: /Free espresso/ }).waitFor();
    await page.getByLabel('Badge name').fill('Regular');
    await page.getByLabel('Badge description').fill('Five visits');
    await page.getByLabel('Level threshold').fill('5');
    await page.getByRole('button', { name: 'Create badge' }).click();
    await page.getByRole('cell', { name: /Regular/ }).waitFor();
    await accessible(page, 'the rewards and badges catalogs');

    // Offers: the brand's offers page with the API's cursors; create, publish, watch the progress reach 100%.
    for (let i = 0; i <= 10; i++) {
      await service(`mutation($t: String!) { createOffer(input: { title: $t, body: "Older offer", benefit: { kind: BONUS_POINTS, value: 10 },
        startsAt: "2026-01-01T00:00:00Z", endsAt: "2036-01-01T00:00:00Z" }) { id } }`, { t: `Older offer ${i}` });
    }
    await open(page, 'Offers');
    await page.locator('.offer', { hasText: 'Older offer 10' }).waitFor();
    assert.equal(await page.locator('.offer', { hasText: 'Older offer 0' }).count(), 0, 'ten offers a page, newest first');
    await page.getByRole('button', { name: 'More offers' }).click();
    await page.locator('.offer', { hasText: 'Older offer 0' }).waitFor();
    // The progress arrives over the socket (offerProgress), not by reading the offer again.
    const liveFrames = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => { if (String(f.payload).includes('"offerProgress"')) liveFrames.push(String(f.payload)); }));
    await page.getByLabel('Title').fill('Double points weekend');
    await page.getByLabel('Message').fill('Come by this weekend for a bonus');
    await page.getByLabel('Benefit value').fill('200');
    await page.getByRole('button', { name: 'Create offer' }).click();
    const offer = page.locator('.offer', { hasText: 'Double points weekend' });
    await offer.getByRole('button', { name: /Publish/ }).click();
    await offer.locator('.percent', { hasText: '100%' }).waitFor({ timeout: 60000 });
    await offer.locator('.status', { hasText: /^PUBLISHED$/ }).waitFor({ timeout: 60000 });
    const [, processed, total] = (await offer.textContent()).match(/(\d+) of (\d+) processed/);
    assert.equal(processed, total, 'every eligible member was reached');
    assert.ok(Number(total) >= 4, `the offer reached the brand's ${total} members`);
    assert.ok(liveFrames.some((f) => f.includes('"PUBLISHED"')), 'the progress came live over the socket');
    await offer.getByRole('button', { name: /Results of/ }).click();
    await offer.getByRole('status').filter({ hasText: /Messaged: \d+/ }).waitFor();
    await accessible(page, 'the offers page');
    // A targeted offer: the API's error on a target is shown at its field;
    // an offer for two listed members reaches those two.
    await page.getByLabel('Title').fill('Two regulars');
    await page.getByLabel('Message').fill('Just for you two');
    await page.getByLabel('Tiers').fill('Nowhere');
    await page.getByRole('button', { name: 'Create offer' }).click();
    const tiers = page.getByLabel('Tiers');
    const tierError = page.locator('.field.has-error', { has: tiers }).locator('.field-error', { hasText: /no tier is called/ });
    await tierError.waitFor();
    assert.match(await tierError.textContent(), /^Tiers: no tier is called/, 'the error names the field by its label, not by the API\'s path (target.tiers[0])');
    assert.equal(await tiers.getAttribute('aria-invalid'), 'true');
    await accessible(page, 'the offers page with a target error');
    await tiers.fill('');
    await page.getByLabel('Inactive for (days)').fill('99999');
    await page.getByRole('button', { name: 'Create offer' }).click();
    await page.locator('.field.has-error', { has: page.getByLabel('Inactive for (days)') }).locator('.field-error', { hasText: /between 0 and 3650/ }).waitFor();
    await page.getByLabel('Inactive for (days)').fill('');
    await page.getByLabel('Members', { exact: true }).fill(`${customers[0].id}\n${customers[1].id}`);
    await page.getByRole('button', { name: 'Create offer' }).click();
    const targeted = page.locator('.offer', { hasText: 'Two regulars' });
    await targeted.getByRole('button', { name: /Publish/ }).click();
    await targeted.locator('.status', { hasText: /^PUBLISHED$/ }).waitFor({ timeout: 60000 });
    await targeted.getByText(/processed, 2 notified/).waitFor();
    // The status filter asks brandOffers for one status.
    await page.getByLabel('Status', { exact: true }).selectOption('PUBLISHED');
    await page.locator('.offer', { hasText: 'Older offer' }).first().waitFor({ state: 'detached' });
    await page.locator('.offer', { hasText: 'Double points weekend' }).waitFor();
    await page.locator('.offer', { hasText: 'Two regulars' }).waitFor();
    assert.equal(await page.locator('.offer').count(), 2, 'only the two published offers');
    await page.getByLabel('Status', { exact: true }).selectOption('DRAFT');
    await page.locator('.offer', { hasText: 'Older offer 10' }).waitFor();
    assert.equal(await page.locator('.offer', { hasText: 'Double points weekend' }).count(), 0, 'no published offer among the drafts');
    await accessible(page, 'the offers page filtered');
    // The triggered campaigns' results with their uplift, one row each.
    await page.getByLabel('Purchases within (days)').fill('0');
    await page.getByRole('button', { name: 'Show campaign results' }).click();
    await page.locator('.field.has-error', { has: page.getByLabel('Purchases within (days)') }).locator('.field-error').waitFor();
    await page.getByLabel('Purchases within (days)').fill('14');
    await page.getByRole('button', { name: 'Show campaign results' }).click();
    const results = page.getByRole('table', { name: /Messaged members against those held out/ });
    for (const name of ['Birthday', 'Win-back', 'Points expiring', 'Streak at risk', 'Coupon expiring']) await results.getByRole('rowheader', { name }).waitFor();
    await accessible(page, 'the campaign results');
    await fitsPhone(page, 'the offers page');

    // Events: create and publish; a member's RSVP shows live; the door checks them in.
    await open(page, 'Events');
    await page.getByLabel('Title').fill('Latte art evening');
    await page.getByLabel('Venue').fill('Main street store');
    await page.getByLabel('Address').fill('12 Main Street');
    await page.getByLabel('Seats', { exact: true }).fill('20');
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.getByRole('link', { name: 'Latte art evening' }).click();
    await page.getByRole('heading', { level: 1, name: 'Latte art evening' }).waitFor();
    await page.getByRole('button', { name: 'Publish event' }).click();
    await page.locator('.status', { hasText: /^PUBLISHED$/ }).waitFor();
    const eventId = decodeURIComponent(page.url().split('#/events/')[1]);
    const carla = customers[0];
    await api(carla.bearer, `mutation($e: ID!) { rsvp(eventId: $e, idempotencyKey: "carla-1") { status } }`, { e: eventId });
    await page.locator('[data-count="confirmed"]', { hasText: /^1$/ }).waitFor({ timeout: 20000 });
    await page.getByRole('cell', { name: 'Carla' }).waitFor();
    await accessible(page, 'an event with its attendees');
    const code = (await api(carla.bearer, `query($e: ID!) { event(id: $e) { myRsvp { checkInCode } } }`, { e: eventId })).event.myRsvp.checkInCode;
    assert.ok(code, 'a confirmed member has a check-in code');

    await soon(eventId); // the door opens two hours before the start
    // The event page's own door link opens the door with this event picked.
    await page.locator('a.button', { hasText: 'Door check-in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Door check-in' }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByLabel('Check-in code').fill(code);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByText(/Carla checked in/).waitFor();
    await accessible(page, 'the door check-in screen');
    await fitsPhone(page, 'the door check-in screen');
    await page.setViewportSize({ width: 1280, height: 900 });
    const attended = await api(carla.bearer, `query($e: ID!) { event(id: $e) { myRsvp { status } } }`, { e: eventId });
    assert.equal(attended.event.myRsvp.status, 'ATTENDED');

    // Carla redeems eleven lattes (through the API, as the app would).
    const latte = (await service(`mutation { createReward(input: { name: "Latte", cost: 1 }) { id } }`)).createReward;
    for (let i = 0; i < 11; i++) {
      await api(carla.bearer, `mutation($r: ID!, $k: String!) { redeemReward(rewardId: $r, idempotencyKey: $k) { id } }`, { r: latte.id, k: `latte-${i}` });
    }

    // Members: search, the profile with its ledger, redemptions, events and standing; adjust points.
    await open(page, 'Members');
    await page.getByLabel('Search by email, name or member id').fill('carla');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Carla' }).click();
    await page.getByRole('heading', { level: 1, name: 'Carla' }).waitFor();
    await page.getByLabel('Points (negative to deduct)').fill('75');
    await page.getByLabel('Reason (the member sees it)').fill('Sorry for the wait at the door');
    await page.getByRole('button', { name: 'Adjust points' }).click();
    await page.getByRole('cell', { name: /Sorry for the wait at the door/ }).waitFor();
    // Her redemptions (11 here: two pages of 10), her events (the one she attended) and her community standing.
    const redemptions = page.getByRole('region', { name: 'Redemptions' });
    await redemptions.getByRole('cell', { name: 'Latte', exact: true }).first().waitFor();
    assert.equal(await redemptions.getByRole('cell', { name: 'Latte', exact: true }).count(), 10, 'ten redemptions a page');
    await redemptions.getByRole('button', { name: 'More redemptions' }).click();
    await redemptions.getByRole('cell', { name: 'Latte', exact: true }).nth(10).waitFor();
    assert.equal(await redemptions.getByRole('button', { name: 'More redemptions' }).count(), 0, 'no third page');
    const attendedRow = page.getByRole('region', { name: 'Events' }).getByRole('row', { name: /Latte art evening/ });
    await attendedRow.waitFor();
    assert.match(await attendedRow.textContent(), /ATTENDED/);
    await page.getByText(/Trust level \d \(\w+\), 0 post\(s\) in 30 days/).waitFor();
    await accessible(page, 'a member profile');
    await fitsPhone(page, 'a member profile');
    await page.screenshot({ path: join(shots, 'member-profile.png'), fullPage: true });

    // The dashboard again: the publishing above ran the background jobs, the
    // analytics rollup last; its figures show once that pass is done. The
    // screenshot waits for them, but the test asserts nothing on their timing.
    await open(page, 'Dashboard');
    for (let i = 0; i < 40; i++) {
      const customersShown = await page.locator('.figures div', { hasText: 'Customers' }).first().locator('dd').textContent().catch(() => '0');
      if (customersShown !== '0') break;
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByRole('button', { name: 'Show' }).waitFor();
    }
    await accessible(page, 'the dashboard with figures');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download overview.csv' }).click()]);
    assert.match(csv.suggestedFilename(), /^overview-.*\.csv$/);
    assert.match(readFileSync(await csv.path(), 'utf8'), /purchases/, 'the overview export has its header');
    await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });
  });
  await page.close();
});

test('door STAFF pick the event from a list and check a member in by the door code typed in lower case', async () => {
  const staff = await signUp('Dora', ['STAFF']);
  const dan = await signUp('Dan');
  const startsAt = new Date(Date.now() + 36e5); // in an hour: the door is open
  const ev = (await service(`mutation($in: EventInput!) { createEvent(input: $in) { id } }`, { in: { title: 'Door night', place: { venue: 'Main street store', address: '12 Main Street' },
    startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 2 * 36e5).toISOString(), timezone: 'Europe/Paris', capacity: 10, guestsPerMember: 0 } })).createEvent;
  await service(`mutation($e: ID!) { publishEvent(id: $e) { id } }`, { e: ev.id });
  // An event Dora could not attend herself (members listed by the brand) is
  // on her door list all the same.
  const listed = (await service(`mutation($in: EventInput!) { createEvent(input: $in) { id } }`, { in: { title: 'Listed guests night', place: { venue: 'Main street store', address: '12 Main Street' },
    startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 2 * 36e5).toISOString(), timezone: 'Europe/Paris', capacity: 10, guestsPerMember: 0,
    eligibility: { memberIds: [dan.id] } } })).createEvent;
  await service(`mutation($e: ID!) { publishEvent(id: $e) { id } }`, { e: listed.id });
  await api(dan.bearer, `mutation($e: ID!) { rsvp(eventId: $e, idempotencyKey: "dan-1") { status } }`, { e: ev.id });
  const door = (await api(dan.bearer, `query($e: ID!) { event(id: $e) { myRsvp { doorCode } } }`, { e: ev.id })).event.myRsvp.doorCode;
  assert.match(door, /^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/, 'the door code is two groups of four unambiguous characters');

  const page = await newPage();
  await explain(page, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, staff.email);
    await page.getByRole('heading', { level: 1, name: 'Door check-in' }).waitFor();
    // The event is picked from the list, not pasted as an id.
    await page.getByLabel('Event', { exact: true }).locator('option', { hasText: 'Door night' }).waitFor({ state: 'attached' });
    await page.getByLabel('Event', { exact: true }).locator('option', { hasText: 'Listed guests night' }).waitFor({ state: 'attached' });
    await page.getByLabel('Event', { exact: true }).selectOption(ev.id);
    const wrong = door === 'ABCD-EFGH' ? 'hgfe dcba' : 'abcd efgh';
    await page.getByLabel('Check-in code').fill(wrong);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.locator('.field.has-error', { has: page.getByLabel('Check-in code') }).getByText(/no check-in code of this event/).waitFor();
    await page.getByLabel('Check-in code').fill(door.toLowerCase().replace('-', ' '));
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByText(/Dan checked in/).waitFor();
    await accessible(page, 'the door check-in screen of door staff');
    await fitsPhone(page, 'the door check-in screen of door staff');
  });
  await page.close();
  const attended = await api(dan.bearer, `query($e: ID!) { event(id: $e) { myRsvp { status } } }`, { e: ev.id });
  assert.equal(attended.event.myRsvp.status, 'ATTENDED');
});

test('a BRAND user refreshing the offers sees an offer published elsewhere, and a draft shows no progress', async () => {
  const brand = await signUp('Xan', ['BRAND']);
  const offer = (await service(`mutation { createOffer(input: { title: "Published elsewhere", body: "From another tab", benefit: { kind: BONUS_POINTS, value: 5 },
    startsAt: "2026-01-01T00:00:00Z", endsAt: "2036-01-01T00:00:00Z" }) { id } }`)).createOffer;
  const page = await newPage();
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await open(page, 'Offers');
    const row = page.locator(`.offer[data-offer="${offer.id}"]`);
    await row.getByRole('button', { name: 'Publish “Published elsewhere”' }).waitFor();
    assert.equal(await row.locator('.progress').count(), 0, 'a draft shows no publishing progress');
    assert.doesNotMatch(await row.textContent(), /Notifying members|processed/);
    // Published in another tab (here: through the API), then refreshed here.
    await service(`mutation($id: ID!) { publishOffer(id: $id) { status } }`, { id: offer.id });
    await page.getByRole('button', { name: 'Refresh offers' }).click();
    await row.locator('.status', { hasText: /^PUBLISH(ING|ED)$/ }).waitFor();
    assert.equal(await row.getByRole('button', { name: 'Publish “Published elsewhere”' }).count(), 0, 'no Publish button on a published offer');
    await row.locator('.percent', { hasText: '100%' }).waitFor({ timeout: 60000 });
    await accessible(page, 'the offers page refreshed');
  });
  await page.close();
});

test('a BRAND user sees the progress of an offer reach 100% by polling when the socket fails', async () => {
  const brand = await signUp('Pia', ['BRAND']);
  for (const name of ['Quinn', 'Rafe']) await signUp(name);
  const offer = (await service(`mutation { createOffer(input: { title: "Socketless Sunday", body: "Polled to the end", benefit: { kind: BONUS_POINTS, value: 20 },
    startsAt: "2026-01-01T00:00:00Z", endsAt: "2036-01-01T00:00:00Z" }) { id } }`)).createOffer;
  const page = await newPage();
  // Every socket to /graphql is refused (closed 1011 as it opens), so the
  // page falls back to reading offer(id) every 0.7 s.
  let sockets = 0;
  await page.routeWebSocket(/\/graphql$/, (ws) => { sockets++; ws.close({ code: 1011, reason: 'no socket in this test' }); });
  const reads = [];
  page.on('request', (r) => { if (r.url().endsWith('/graphql') && /offer\(id: \$id\)/.test(r.postData() || '')) reads.push(r); });
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await open(page, 'Offers');
    const row = page.locator(`.offer[data-offer="${offer.id}"]`);
    await row.getByRole('button', { name: 'Publish “Socketless Sunday”' }).click();
    await row.locator('.percent', { hasText: '100%' }).waitFor({ timeout: 60000 });
    await row.locator('.status', { hasText: /^PUBLISHED$/ }).waitFor({ timeout: 60000 });
    const [, processed, total] = (await row.textContent()).match(/(\d+) of (\d+) processed/);
    assert.equal(processed, total, 'every member processed');
    assert.ok(sockets >= 1, 'the page tried the socket');
    assert.ok(reads.length >= 1, 'the progress came from reading the offer');
    const published = (await service(`query($id: ID!) { offer(id: $id) { status progress { processed total } } }`, { id: offer.id })).offer;
    assert.deepEqual(published, { status: 'PUBLISHED', progress: { processed: Number(processed), total: Number(total) } });
    await accessible(page, 'the offers page without a socket');
  });
  await page.close();
});

test('a BRAND user finds a skip link first, the heading focused after each navigation, the audit log naming its targets with links, and no 404', async () => {
  const brand = await signUp('Kit', ['BRAND']);
  const [ivy, jon] = [await signUp('Ivy'), await signUp('Jon')];
  const space = (await service(`mutation($in: SpaceInput!) { createSpace(input: $in) { id } }`, { in: { name: 'Tea talk', description: 'Leaves and kettles' } })).createSpace;
  const thread = (await api(jon.bearer, `mutation($s: ID!) { createThread(spaceId: $s, input: { title: "Green or black?", body: "Which tea in the morning?" }) { id } }`, { s: space.id })).createThread;
  const spam = (await api(ivy.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Cheap kettles at example dot com" }) { id } }`, { t: thread.id })).reply;
  await service(`mutation($p: ID!) { moderatePost(postId: $p, action: HIDE, reason: "Kettle ads") { id } }`, { p: spam.id });
  await service(`mutation($m: ID!, $s: ID) { sanctionMember(memberId: $m, spaceId: $s, kind: SILENCE, durationMinutes: 60, reason: "Kettle ads again") { until } }`, { m: ivy.id, s: space.id });
  const gone = (await api(jon.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Kettles, kettles everywhere" }) { id } }`, { t: thread.id })).reply;
  await service(`mutation($p: ID!) { moderatePost(postId: $p, action: DELETE, reason: "Kettle flood") { id } }`, { p: gone.id });

  const page = await newPage();
  const missing = [];
  page.on('response', (r) => { if (r.status() === 404) missing.push(r.url()); });
  const focusedHeading = (name) => page.waitForFunction((n) => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === n, name);
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // A fresh page: the first Tab lands on the skip link, which leads to the heading.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const route = page.url();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    await focusedHeading('Dashboard');
    assert.equal(page.url(), route, 'the skip link leaves the route as it was');
    // Each in-app navigation moves the focus to the new page's heading.
    await open(page, 'Members');
    await focusedHeading('Members');
    await open(page, 'Moderation');
    await focusedHeading('Moderation');

    // The audit log names what each action was on, with a link where the console has a page.
    await page.getByLabel('Space', { exact: true }).selectOption({ label: 'Tea talk' });
    const log = page.getByRole('region', { name: 'Audit log' });
    const post = log.getByRole('link', { name: 'Post #2 by Ivy' });
    await post.waitFor();
    assert.equal(await post.getAttribute('href'), '#/moderation/' + encodeURIComponent(thread.id));
    const member = log.getByRole('link', { name: 'Ivy', exact: true });
    assert.equal(await member.getAttribute('href'), '#/members/' + encodeURIComponent(ivy.id));
    assert.match(await log.getByRole('row', { name: /Kettle ads again/ }).textContent(), /Member Ivy/);
    // A deleted post is named as deleted, with no link to follow.
    const deleted = log.getByRole('row', { name: /Kettle flood/ });
    assert.match(await deleted.textContent(), /Post #3 by Jon \(deleted\)/);
    assert.equal(await deleted.getByRole('link').count(), 0, 'no link to a deleted post');
    await accessible(page, 'the audit log');
    await fitsPhone(page, 'the audit log');
    await post.click();
    await focusedHeading('Green or black?');
    await page.getByRole('list', { name: 'Posts' }).getByText('Cheap kettles at example dot com').waitFor();

    // The console's icon is its own, and nothing it loaded was missing.
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    const res = await fetch(base + icon);
    assert.equal(res.status, 200, icon);
    assert.match(res.headers.get('content-type'), /image\/svg\+xml/);
    assert.deepEqual(missing, [], 'requests answered 404');
  });
  await page.close();
});

test('an unknown address shows "Page not found" and another role\'s page "You don\'t have access", each with a link home', async () => {
  const brand = await signUp('Rob', ['BRAND']);
  const mod = await signUp('Meg', ['MODERATOR']);
  const member = await signUp('Mae');
  const page = await newPage();
  const go = (hash) => page.evaluate((h) => { location.hash = h; }, hash);
  const shows = async (heading, what) => {
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    assert.equal(await page.locator('p.error').count(), 0, `no API error on ${what}`);
    assert.equal(await page.getByRole('link', { name: "Go to the console's home page" }).count(), 1, `a link home on ${what}`);
  };
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await go('#/nonsense');
    await shows('Page not found', '#/nonsense');
    await accessible(page, 'the page not found');
    await page.getByRole('link', { name: "Go to the console's home page" }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await go('#/members/not-a-member');
    await shows('Page not found', 'a member id that is none');
    await go('#/moderation/lgo');
    await shows('Page not found', 'a mistyped moderation address');
    await go('#/events/' + encodeURIComponent(member.id));
    await shows('Page not found', 'an event address with a member id');
    await page.getByRole('button', { name: 'Sign out' }).click();

    await signIn(page, mod.email);
    await page.getByRole('heading', { level: 1, name: 'Moderation' }).waitFor();
    await go('#/members/' + encodeURIComponent(member.id));
    await shows("You don't have access to this page", 'a member profile for a MODERATOR');
    await accessible(page, 'the no-access page');
    await go('#/nonsense');
    await shows('Page not found', '#/nonsense for a MODERATOR');
    await page.getByRole('link', { name: "Go to the console's home page" }).click();
    await page.getByRole('heading', { level: 1, name: 'Moderation' }).waitFor();
  });
  await page.close();
});

test('a BRAND user changing the address from one member to another sees only the new one, no action enabled while it loads, and an id naming nothing is not found', async () => {
  const brand = await signUp('Brielle', ['BRAND']);
  const ava = await signUp('Avalon');
  const ben = await signUp('Benedict');
  await service(`mutation($id: ID!) { adjustPoints(memberId: $id, amount: 70, reason: "Welcome", idempotencyKey: "ava-welcome") { amount } }`, { id: ava.id });
  const page = await newPage();
  const go = (hash) => page.evaluate((h) => { location.hash = h; }, hash);
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await go('#/members/' + encodeURIComponent(ava.id));
    await page.getByRole('heading', { level: 1, name: 'Avalon' }).waitFor();
    // Ben's profile read is held until the page has been looked at.
    let release;
    const held = new Promise((r) => { release = r; });
    let seen;
    const reached = new Promise((r) => { seen = r; });
    await page.route('**/graphql', async (route) => {
      const body = route.request().postData() || '';
      if (body.includes(ben.id) && body.includes('points { balance')) { seen(); await held; }
      await route.continue();
    });
    await go('#/members/' + encodeURIComponent(ben.id));
    await reached;
    await page.getByRole('status').filter({ hasText: 'Loading…' }).first().waitFor();
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Avalon' }).count(), 0, "Ava's profile is gone while Ben's loads");
    assert.equal(await page.getByText('70', { exact: true }).count(), 0, "Ava's figures are gone while Ben's load");
    for (const name of ['Adjust points', 'Grant role', 'Revoke role']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).and(page.locator(':enabled')).count(), 0, `no enabled ${name} while Ben's profile loads`);
    }
    release();
    await page.getByRole('heading', { level: 1, name: 'Benedict' }).waitFor();
    assert.equal(await page.getByText('Avalon').count(), 0, 'nothing of Ava on Ben\'s profile');
    await page.unroute('**/graphql');
    await go('#/members/' + encodeURIComponent(ben.id.slice(0, -4) + 'zzzz'));
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Benedict' }).count(), 0, "Ben's profile is gone");
    assert.equal(await page.locator('p.error').count(), 0, 'no "member not found" error beside Page not found');
    assert.equal(await page.getByRole('button', { name: 'Adjust points' }).count(), 0);
    // Back to Ben: his profile again, not the page not found.
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Benedict' }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Page not found' }).count(), 0);
  });
  await page.close();
});

test('two MODERATORs deciding one flagged post at once: one wins, the other is told who decided what and nothing of theirs is applied', async () => {
  const [kit, lou] = [await signUp('Kasia', ['MODERATOR']), await signUp('Lou', ['MODERATOR'])];
  const [ned, oli] = [await signUp('Ned'), await signUp('Oli')];
  const space = (await service(`mutation($in: SpaceInput!) { createSpace(input: $in) { id } }`,
    { in: { name: 'Tandem talk', description: 'Two on a bike', moderatorIds: [kit.id, lou.id] } })).createSpace;
  const thread = (await api(ned.bearer, `mutation($s: ID!) { createThread(spaceId: $s, input: { title: "Tandem for sale", body: "Barely used tandem, collection only" }) { id } }`, { s: space.id })).createThread;
  const post = (await api(oli.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Is it still available?" }) { id } }`, { t: thread.id })).reply;
  await api(ned.bearer, `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM, note: "not sure") { id } }`, { p: post.id });
  const [pk, pl] = [await newPage(), await newPage()];
  await explain(pl, async () => {
    for (const [page, who] of [[pk, kit], [pl, lou]]) {
      await signIn(page, who.email);
      await page.getByRole('heading', { level: 1, name: 'Moderation' }).waitFor();
      await page.getByLabel('Space', { exact: true }).selectOption({ label: 'Tandem talk' });
      await page.locator(`.review[data-post="${post.id}"]`).waitFor();
    }
    // Lou clicks Approve as Kasia clicks Hide: Lou's decision reaches the API just after Kasia's.
    let release;
    const held = new Promise((r) => { release = r; });
    let seen;
    const reached = new Promise((r) => { seen = r; });
    await pl.route('**/graphql', async (route) => {
      if (/moderatePost/.test(route.request().postData() || '')) { seen(); await held; }
      await route.continue();
    });
    await pl.locator(`.review[data-post="${post.id}"]`).getByRole('button', { name: /Approve post/ }).click();
    await reached;
    await pk.locator(`.review[data-post="${post.id}"]`).getByRole('button', { name: /Hide post/ }).click();
    await pk.getByRole('status').filter({ hasText: /by Oli: hide/ }).waitFor();
    release();
    await pl.getByRole('alert').filter({ hasText: 'already decided by Kasia: hide. Nothing of yours was applied.' }).waitFor();
    await pl.locator(`.review[data-post="${post.id}"]`).waitFor({ state: 'detached' });
    assert.equal(await pl.getByRole('status').filter({ hasText: /approve/ }).count(), 0, 'Lou is not told the approval succeeded');
    await accessible(pl, 'the review queue after a conflict');
    const log = await service(`query($s: ID) { moderationLog(spaceId: $s) { edges { node { action } } } }`, { s: space.id });
    assert.deepEqual(log.moderationLog.edges.map((e) => e.node.action).filter((a) => a.endsWith('_POST')), ['HIDE_POST'], 'the audit log has the one decision');
    const mine = await api(kit.bearer, `query($t: ID!) { posts(threadId: $t) { edges { node { id status } } } }`, { t: thread.id });
    assert.equal(mine.posts.edges.find((e) => e.node.id === post.id)?.node.status, 'HIDDEN');
  });
  await pk.close();
  await pl.close();
});

test('a MODERATOR hides a flagged post and it leaves the thread members read', async () => {
  const mod = await signUp('Mo', ['MODERATOR']);
  const [fay, gus, hal] = [await signUp('Fay'), await signUp('Gus'), await signUp('Hal')];
  const space = (await service(`mutation($in: SpaceInput!) { createSpace(input: $in) { id } }`,
    { in: { name: 'Coffee talk', description: 'Brewing at home', moderatorIds: [mod.id] } })).createSpace;
  const thread = (await api(fay.bearer, `mutation($s: ID!) { createThread(spaceId: $s, input: { title: "Best grinder?", body: "Which grinder do you use for espresso?" }) { id } }`, { s: space.id })).createThread;
  const spam = (await api(gus.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Cheap watches at example dot com" }) { id } }`, { t: thread.id })).reply;
  await api(hal.bearer, `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM, note: "selling watches") { id } }`, { p: spam.id });
  const thread$ = async () => (await api(fay.bearer, `query($t: ID!) { posts(threadId: $t) { edges { node { id status body } } } }`, { t: thread.id })).posts.edges.map((e) => e.node);
  assert.ok((await thread$()).some((p) => p.body?.includes('Cheap watches')), 'before: the flagged post is in the thread');

  const page = await newPage();
  await explain(page, async () => {
    await signIn(page, mod.email);
    await page.getByRole('heading', { level: 1, name: 'Moderation' }).waitFor();
    // A global moderator moderates every space: the other tests' spaces too.
    await page.getByLabel('Space', { exact: true }).selectOption({ label: 'Coffee talk' });
    const item = page.locator(`.review[data-post="${spam.id}"]`);
    await item.waitFor();
    assert.match(await item.textContent(), /SPAM: selling watches/);
    // Its context: the thread (a link to it) and the post it replies to.
    await item.getByRole('link', { name: 'Best grinder?' }).waitFor();
    await item.getByText('Replying to post #1 by Fay').waitFor();
    await item.locator('.quoted', { hasText: 'Which grinder do you use for espresso?' }).waitFor();
    // Live: the page hears of the queue over the socket; a new flag shows without a reload.
    await page.getByText('Live: 1 post(s) waiting.').waitFor();
    const rant = (await api(hal.bearer, `mutation($t: ID!, $q: ID) { reply(threadId: $t, input: { body: "Follow my channel for grinder deals" }, quoteId: $q) { id } }`, { t: thread.id, q: spam.id })).reply;
    await api(fay.bearer, `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM, note: "channel ads") { id } }`, { p: rant.id });
    const second = page.locator(`.review[data-post="${rant.id}"]`);
    await second.waitFor({ timeout: 20000 });
    assert.match(await second.textContent(), /SPAM: channel ads/);
    await second.getByText('Quoting post #2 by Gus').waitFor();
    await second.locator('.quoted', { hasText: 'Cheap watches at example dot com' }).waitFor();
    await page.getByText('Live: 2 post(s) waiting.').waitFor();
    await accessible(page, 'the review queue');
    await fitsPhone(page, 'the review queue');
    await page.screenshot({ path: join(shots, 'review-queue.png'), fullPage: true });

    // Sanctions: silence the author for a day with a reason; it shows in their history; lift it.
    await item.getByLabel('Silence Gus for').selectOption('1440');
    await item.getByLabel('Reason for the sanction of Gus').fill('Spamming watches');
    await item.getByRole('button', { name: 'Silence Gus' }).click();
    await page.getByRole('status').filter({ hasText: 'Gus is silenced in this space.' }).waitFor();
    const gusSanctions = item.getByRole('list', { name: 'Sanctions of Gus' });
    await gusSanctions.getByText(/SILENCE in this space until .*: Spamming watches/).waitFor();
    await item.getByText('1 sanction(s) in force').waitFor();
    const silenced = await api(gus.bearer, `mutation($t: ID!) { reply(threadId: $t, input: { body: "Still selling" }) { id } }`, { t: thread.id }).then(() => null, (e) => e);
    assert.match(String(silenced?.message), /silenced/, 'the silenced author cannot post');
    await accessible(page, 'the review queue with a sanction');
    await item.getByLabel('Reason for the sanction of Gus').fill('Apologised');
    await item.getByRole('button', { name: 'Lift the silence of Gus' }).click();
    await page.getByRole('status').filter({ hasText: "Gus's silence is lifted." }).waitFor();
    await gusSanctions.waitFor({ state: 'detached' });
    await item.getByText('no sanction in force').waitFor();
    await item.getByLabel(/Reason for post/).fill('Advertising');
    await item.getByRole('button', { name: /Hide post/ }).click();
    await page.getByRole('status').filter({ hasText: /by Gus: hide/ }).waitFor();
    await item.waitFor({ state: 'detached' });
    await second.getByLabel(/Reason for post/).fill('Advertising again');
    await second.getByRole('button', { name: /Hide post/ }).click();
    await page.getByText('Nothing waits for review.').waitFor();
    const after = await thread$();
    assert.ok(!after.some((p) => p.body?.includes('Cheap watches')), 'after: the hidden post is gone from the member\'s view: ' + JSON.stringify(after));
    assert.equal(after.find((p) => p.id === spam.id)?.status ?? 'HIDDEN', 'HIDDEN');
    const log = await service(`query($s: ID) { moderationLog(spaceId: $s) { edges { node { action reason } } } }`, { s: space.id });
    assert.ok(log.moderationLog.edges.some((e) => e.node.reason === 'Advertising'), 'the audit log has the action: ' + JSON.stringify(log));

    // A decision taken by mistake is undone from the RESOLVED view: its
    // buttons act on the post as it is now (a reversal, with a reason),
    // not on the item as pending (which would be "already decided by Mo").
    await page.getByLabel('Show').selectOption('RESOLVED');
    const resolved = page.locator(`.review[data-post="${spam.id}"]`);
    await resolved.getByRole('button', { name: 'Restore post #2' }).click();
    await resolved.getByText(/Give a reason for restore post #2/).waitFor();
    assert.ok((await thread$()).every((p) => !p.body?.includes('Cheap watches')), 'a reversal without a reason restored nothing');
    await resolved.getByLabel('Reason for post #2').fill('Hidden by mistake');
    await resolved.getByRole('button', { name: 'Restore post #2' }).click();
    await page.getByRole('status').filter({ hasText: 'Post #2 by Gus: restore, now visible.' }).waitFor();
    assert.equal(await page.getByRole('alert').filter({ hasText: 'already decided' }).count(), 0, 'the restore was refused as already decided');
    assert.ok((await thread$()).some((p) => p.body?.includes('Cheap watches')), 'the restored post is visible to members again');
    await resolved.getByRole('button', { name: 'Hide post #2 anyway' }).waitFor();
    const undone = await service(`query($s: ID) { moderationLog(spaceId: $s) { edges { node { action reason before after targetId } } } }`, { s: space.id });
    const onSpam = undone.moderationLog.edges.map((e) => e.node).filter((e) => e.targetId === spam.id);
    assert.ok(onSpam.some((e) => e.action === 'HIDE_POST' && e.reason === 'Advertising'), 'the audit log has the hide: ' + JSON.stringify(undone));
    assert.ok(onSpam.some((e) => e.action === 'APPROVE_POST' && e.reason === 'Hidden by mistake' && e.before === 'HIDDEN' && e.after === 'VISIBLE'), 'the audit log has the reversal: ' + JSON.stringify(undone));
    await accessible(page, 'the resolved review queue');

    // A resolved item's thread link opens the thread as its moderators see
    // it, each post with the actions for its state.
    await page.locator(`.review[data-post="${spam.id}"]`).getByRole('link', { name: 'Best grinder?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Best grinder?' }).waitFor();
    const posts = page.getByRole('list', { name: 'Posts' });
    await posts.locator(`[data-post="${spam.id}"]`, { hasText: 'VISIBLE' }).waitFor();
    await posts.getByText('Cheap watches at example dot com').waitFor();
    const held = posts.locator(`[data-post="${rant.id}"]`, { hasText: 'HIDDEN' });
    await held.getByLabel('Reason for post #3').fill('Links are fine here');
    await held.getByRole('button', { name: 'Restore post #3' }).click();
    await page.getByRole('status').filter({ hasText: 'Post #3 by Hal: restore, now visible.' }).waitFor();
    await posts.locator(`[data-post="${rant.id}"]`, { hasText: 'VISIBLE' }).getByRole('button', { name: 'Hide post #3' }).waitFor();
    await accessible(page, 'a thread from the review queue');
    await fitsPhone(page, 'a thread from the review queue');
    await page.getByRole('link', { name: 'Back to the review queue' }).click();
    await page.getByRole('heading', { level: 2, name: 'Review queue' }).waitFor();
  });
  await page.close();
});

test('a BRAND user in Paris reads and enters offer and promotion times in the program\'s timezone, labelled with it', async () => {
  const brand = await signUp('Ugo', ['BRAND']);
  const year = new Date().getUTCFullYear() + 1;
  let { program } = await service('{ program { timezone promotions { id startsAt } } }');
  const tz = program.timezone;
  assert.notEqual(tz, 'Europe/Paris', 'the program is in another zone than the browser');
  if (program.promotions.length === 0) {
    await service(`mutation($in: ProgramInput!) { updateProgram(input: $in) { version } }`,
      { in: { promotions: [{ id: 'summer', name: 'Summer', bonusPoints: 50, startsAt: `${year}-06-01T08:00:00Z`, endsAt: `${year}-06-30T20:00:00Z`, expiresAfterDays: 30 }] } });
    ({ program } = await service('{ program { timezone promotions { id startsAt } } }'));
  }
  // The wall time an instant has in the program's zone, as a form shows it.
  const wall = (s) => new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(s)).replace(' ', 'T');
  const page = await newPage({ timezoneId: 'Europe/Paris' });
  await explain(page, async () => {
    await signIn(page, brand.email);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await open(page, 'Program');
    await page.getByLabel('Promotion 1 starts').waitFor();
    assert.equal(await page.getByLabel('Promotion 1 starts').inputValue(), wall(program.promotions[0].startsAt), 'a promotion starts at its wall time in the program\'s zone');
    await page.getByText(`In the program's timezone (${tz})`).first().waitFor();

    await open(page, 'Offers');
    await page.getByText(`In the program's timezone (${tz})`).first().waitFor();
    await page.getByLabel('Title').fill('Spring hours');
    await page.getByLabel('Message').fill('Double points at ten');
    await page.getByLabel('Starts', { exact: true }).fill(`${year}-03-01T10:00`);
    await page.getByLabel('Ends', { exact: true }).fill(`${year}-03-05T18:00`);
    await page.getByRole('button', { name: 'Create offer' }).click();
    await page.getByText('Created “Spring hours” as a draft.').waitFor();
    const offer = (await service('{ brandOffers(first: 50) { edges { node { id title startsAt endsAt } } } }')).brandOffers.edges.map((e) => e.node).find((o) => o.title === 'Spring hours');
    assert.equal(wall(offer.startsAt), `${year}-03-01T10:00`, 'Starts is read in the program\'s zone');
    assert.equal(wall(offer.endsAt), `${year}-03-05T18:00`, 'Ends is read in the program\'s zone');
    const card = page.locator(`.offer[data-offer="${offer.id}"]`);
    await card.waitFor();
    assert.match(await card.textContent(), new RegExp(`10:00 \\(${tz.replace('/', '\\/')}\\) – .*18:00 \\(${tz.replace('/', '\\/')}\\)`));
    await accessible(page, 'the offers in the program\'s timezone');
  });
  await page.close();
});
