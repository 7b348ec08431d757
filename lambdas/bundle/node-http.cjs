// What the function bundles get for `node:http` (an esbuild alias, lib/constructs/webhook-function.ts).
// Importing a Node built-in as an ES module builds its namespace from every export, and reading
// `http`'s lazy exports (WebSocket and the like) loads Node's bundled undici: some 40 ms of each
// cold start on a 2-core machine for a module the functions never use. Taken as CommonJS, the
// built-in's exports are read only where the code uses them.
module.exports = process.getBuiltinModule("node:http");
