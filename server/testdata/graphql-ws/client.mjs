// The reference graphql-ws client, as a mobile app would use it: one query
// and one subscription over the socket. Prints one JSON line per event.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const client = createClient({
  url: process.env.WS_URL,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${process.env.TOKEN}` },
  retryAttempts: 0,
});
const say = (event, data) => console.log(JSON.stringify({ event, data }));

const me = await new Promise((resolve, reject) => {
  let result;
  client.subscribe({ query: '{ me { email } }' }, { next: (r) => (result = r), error: reject, complete: () => resolve(result) });
});
say('query', me);

const unsubscribe = client.subscribe(
  { query: 'subscription { notifications { id kind title } }' },
  {
    next: (r) => { say('notification', r); unsubscribe(); client.dispose(); process.exit(0); },
    error: (e) => { say('error', String(e)); process.exit(1); },
    complete: () => {},
  },
);
say('subscribed', null);
setTimeout(() => { say('timeout', null); process.exit(2); }, 15000);
