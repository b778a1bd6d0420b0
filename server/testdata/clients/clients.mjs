// Apollo Client and urql against a running Regulars server: sign-up, cursor
// paging merged by each client's Relay pagination helper, a live
// notification, a node(id:) refetch and automatic persisted queries.
//
// Each client is set up exactly as README's client section shows:
// server/clients_interop_test.go writes README's two set-ups out as
// readme-apollo.mjs and readme-urql.mjs (with the test server's URLs). It
// runs this script with HTTP_URL and API_KEY set; the script prints one JSON
// report line per client and exits non-zero at the first check that fails.
import assert from 'node:assert/strict';

import { gql } from '@apollo/client';

const { HTTP_URL, API_KEY } = process.env;
const timer = setTimeout(() => fail('timeout', new Error('no result within 40 s')), 40_000);

// Progress on stderr, which the Go test shows when the script fails.
const step = (client, what) => console.error(`${client}: ${what}`);

function fail(client, err) {
  console.log(JSON.stringify({ client, error: String(err?.stack ?? err) }));
  process.exit(1);
}

// Every HTTP request the client under test makes, to check the
// persisted-query round trip: whether it carried the query text or the hash
// alone, and the error code. Both clients call the global fetch per request.
let requests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const u = new URL(String(url));
  const body = init.body ? JSON.parse(init.body) : {
    query: u.searchParams.get('query') || undefined,
    operationName: u.searchParams.get('operationName') || undefined,
    extensions: JSON.parse(u.searchParams.get('extensions') || 'null'),
  };
  const res = await realFetch(url, init);
  const json = await res.clone().json();
  step('http', `${body.operationName} ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
  requests.push({
    operationName: body.operationName,
    hashOnly: !body.query && !!body.extensions?.persistedQuery,
    code: json.errors?.[0]?.extensions?.code ?? null,
    message: json.errors?.[0]?.message ?? null,
  });
  return res;
};

// The brand's backend sends the member notifications (it alone may).
async function brandNotifies(memberId, title) {
  const res = await realFetch(HTTP_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `ApiKey ${API_KEY}` },
    body: JSON.stringify({
      query: 'mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "hi") { id } }',
      variables: { id: memberId, t: title },
    }),
  });
  const json = await res.json();
  assert.equal(json.errors, undefined, JSON.stringify(json.errors));
}

const SIGN_UP = gql`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { accessToken member { id email } }
  }
`;
const NOTIFICATIONS = gql`
  query Inbox($first: Int, $after: String) {
    notifications(first: $first, after: $after) {
      edges { cursor node { id title } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;
const LIVE = gql`
  subscription Live($after: String) {
    notifications(after: $after) { id title cursor }
  }
`;
// Each client names its own, so each starts with a hash the server lacks.
const refetch = (name) => gql`
  query ${name}($id: ID!) {
    node(id: $id) { __typename id ... on Member { email displayName } }
  }
`;
const signUpInput = (email) => ({
  email, password: 'correct horse battery', displayName: email.split('@')[0], timezone: 'Europe/Paris',
});

// What both clients must see once every page is merged: each notification
// once, newest first, and the page info of the whole list.
function checkMerged(conn, total) {
  const ids = conn.edges.map((e) => e.node.id);
  assert.equal(ids.length, total, `merged ${ids.length} edges, want ${total}`);
  assert.equal(new Set(ids).size, total, 'an edge appears twice');
  assert.match(conn.edges[total - 1].node.title, /^Welcome/, 'the oldest is the welcome');
  const info = conn.pageInfo;
  assert.equal(info.hasNextPage, false);
  assert.equal(info.hasPreviousPage, false);
  assert.equal(info.startCursor, conn.edges[0].cursor);
  assert.equal(info.endCursor, conn.edges[total - 1].cursor);
  return ids;
}

// A hash alone first, refused with PERSISTED_QUERY_NOT_FOUND; then the query
// with its hash; then, for the operation asked again, the hash alone works.
function checkPersisted(log, operationName) {
  const sent = log.filter((r) => r.operationName === operationName);
  assert.ok(sent.length >= 3, `${operationName}: ${JSON.stringify(sent)}`);
  assert.deepEqual(sent.slice(0, 3).map((r) => [r.hashOnly, r.code]), [
    [true, 'PERSISTED_QUERY_NOT_FOUND'], [false, null], [true, null],
  ], JSON.stringify(sent));
  assert.equal(sent[0].message, 'PersistedQueryNotFound');
  return sent.slice(0, 3);
}

async function apollo() {
  const log = (requests = []);
  const email = 'apollo@example.com';
  // The set-up is README's, as pasted (the Go test writes it out).
  const { client, setToken, closeSocket } = await import('./readme-apollo.mjs');

  const { data: signedUp } = await client.mutate({ mutation: SIGN_UP, variables: { input: signUpInput(email) } });
  setToken(signedUp.signUp.accessToken);
  const memberId = signedUp.signUp.member.id;
  for (let i = 1; i <= 4; i++) await brandNotifies(memberId, `apollo ${i}`);

  // Paging: the first page, then fetchMore from endCursor until the end;
  // relayStylePagination merges the pages in the cache.
  const inbox = client.watchQuery({ query: NOTIFICATIONS, variables: { first: 2 } });
  const watching = inbox.subscribe({ error: (e) => fail('apollo', e) });
  let { data } = await inbox.refetch();
  const pages = [data.notifications.edges.length];
  while (data.notifications.pageInfo.hasNextPage) {
    const more = await inbox.fetchMore({ variables: { after: data.notifications.pageInfo.endCursor } });
    pages.push(more.data.notifications.edges.length);
    data = client.readQuery({ query: NOTIFICATIONS, variables: { first: 2 } });
  }
  const merged = checkMerged(data.notifications, 5);

  // A live notification: resume after the newest one seen, so nothing sent
  // between the query and the subscription is missed.
  const live = await new Promise((resolve, reject) => {
    const sub = client.subscribe({ query: LIVE, variables: { after: data.notifications.edges[0].cursor } }).subscribe({
      next: ({ data, error }) => { if (error) reject(error); sub.unsubscribe(); resolve(data.notifications); },
      error: reject,
    });
    brandNotifies(memberId, 'apollo live').catch(reject);
  });
  assert.equal(live.title, 'apollo live');

  // node(id:) refetch: normalised into the same cache entry as signUp's member.
  const { data: refetched } = await client.query({ query: refetch('ApolloRefetch'), variables: { id: memberId }, fetchPolicy: 'network-only' });
  assert.equal(refetched.node.__typename, 'Member');
  assert.equal(refetched.node.email, email);
  assert.equal(client.cache.extract()[client.cache.identify({ __typename: 'Member', id: memberId })].email, email);

  // The same query again: the server now knows its hash.
  await client.query({ query: refetch('ApolloRefetch'), variables: { id: memberId }, fetchPolicy: 'network-only' });
  const persistedRequests = checkPersisted(log, 'ApolloRefetch');

  watching.unsubscribe();
  client.stop();
  await closeSocket();
  return { client: 'apollo', requests: log.length, memberId, pages, merged, live, refetched: refetched.node, persistedRequests };
}

async function urql() {
  const log = (requests = []);
  const email = 'urql@example.com';
  const { client, setToken, closeSocket } = await import('./readme-urql.mjs');
  const ok = (r) => { if (r.error) throw r.error; return r.data; };

  const signedUp = ok(await client.mutation(SIGN_UP, { input: signUpInput(email) }).toPromise());
  setToken(signedUp.signUp.accessToken);
  const memberId = signedUp.signUp.member.id;
  for (let i = 1; i <= 4; i++) await brandNotifies(memberId, `urql ${i}`);

  // Paging: each page asked with after; relayPagination answers every page
  // query with the pages merged.
  let data = ok(await client.query(NOTIFICATIONS, { first: 2 }).toPromise());
  const pages = [data.notifications.edges.length];
  while (data.notifications.pageInfo.hasNextPage) {
    data = ok(await client.query(NOTIFICATIONS, { first: 2, after: data.notifications.pageInfo.endCursor }).toPromise());
    pages.push(data.notifications.edges.length);
  }
  const merged = checkMerged(data.notifications, 5);
  const cached = ok(await client.query(NOTIFICATIONS, { first: 2 }, { requestPolicy: 'cache-only' }).toPromise());
  assert.deepEqual(cached.notifications.edges.map((e) => e.node.id), merged, 'the first page read back from the cache is not the merged list');

  const live = await new Promise((resolve, reject) => {
    const sub = client.subscription(LIVE, { after: data.notifications.edges[0].cursor }).subscribe((r) => {
      if (r.error) return reject(r.error);
      sub.unsubscribe();
      resolve(r.data.notifications);
    });
    brandNotifies(memberId, 'urql live').catch(reject);
  });
  assert.equal(live.title, 'urql live');

  const refetched = ok(await client.query(refetch('UrqlRefetch'), { id: memberId }, { requestPolicy: 'network-only' }).toPromise());
  assert.equal(refetched.node.__typename, 'Member');
  assert.equal(refetched.node.email, email);
  await client.query(refetch('UrqlRefetch'), { id: memberId }, { requestPolicy: 'network-only' }).toPromise();
  const persistedRequests = checkPersisted(log, 'UrqlRefetch');

  await closeSocket();
  return { client: 'urql', requests: log.length, memberId, pages, merged, live, refetched: refetched.node, persistedRequests };
}

for (const [name, run] of [['apollo', apollo], ['urql', urql]]) {
  try {
    console.log(JSON.stringify(await run()));
  } catch (err) {
    fail(name, err);
  }
}
clearTimeout(timer);
process.exit(0);
