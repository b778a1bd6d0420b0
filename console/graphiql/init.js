// GraphiQL against this server's /graphql and its socket. Add a header
// {"Authorization": "Bearer <accessToken>"} in the Headers tab to call as a member.
const url = location.origin + '/graphql';
const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl: url.replace(/^http/, 'ws') });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }),
);
