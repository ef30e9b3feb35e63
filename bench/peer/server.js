// The bench's PostGraphile peer: PostGraphile 4 (package.json pins it) in library mode with
// production settings, serving schema public of the bench's PostgreSQL database through the
// grants, computed columns and row-level security of schema.sql. bench/peer.py starts it:
//   DATABASE_URL=postgres://bench_peer_authenticator@127.0.0.1:5432/estart_bench_1000 \
//   JWT_SECRET=... PORT=5678 node bench/peer/server.js
// GET /__stats answers the number of SQL statements sent to PostgreSQL so far.
'use strict';
const http = require('http');
const { postgraphile } = require('postgraphile');
const PgSimplifyInflectorPlugin = require('@graphile-contrib/pg-simplify-inflector');
const pg = require('pg');

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: parseInt(process.env.PG_POOL_MAX || '10', 10),
});

let statements = 0;
pool.on('connect', (client) => {
  const query = client.query;
  client.query = function countedQuery(...args) {
    statements++;
    return query.apply(this, args);
  };
});

const middleware = postgraphile(pool, 'public', {
  // HS256 JWT: its `role` claim becomes SET LOCAL ROLE, the others jwt.claims.* settings;
  // no default role, so a request without a token reads nothing
  jwtSecret: process.env.JWT_SECRET,
  ignoreRBAC: false,
  ignoreIndexes: true, // expose the relations of unindexed foreign keys too (notes.setting_id)
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  disableDefaultMutations: true,
  appendPlugins: [PgSimplifyInflectorPlugin],
  simpleCollections: 'both',
  legacyRelations: 'omit',
  // production settings
  watchPg: false,
  graphiql: false,
  enhanceGraphiql: false,
  disableQueryLog: true,
  extendedErrors: [],
  showErrorStack: false,
  retryOnInitFail: false,
  enableQueryBatching: false,
  exportGqlSchemaPath: process.env.EXPORT_SCHEMA || undefined,
});

const server = http.createServer((req, res) => {
  if (req.url === '/__stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ statements }));
    return;
  }
  middleware(req, res);
});
server.keepAliveTimeout = 65000;
server.listen(parseInt(process.env.PORT || '5678', 10), process.env.HOST || '127.0.0.1', () => {
  console.log(`postgraphile listening on port ${server.address().port} pid=${process.pid}`);
});

function shutdown() {
  server.close();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
