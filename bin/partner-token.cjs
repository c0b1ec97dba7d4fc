#!/usr/bin/env node
// Published entry: runs the bundled CLI (scripts/build.ts). From a checkout, `node src/cli/main.ts`
// runs the sources.
//
// CommonJS on purpose: Node starts a CommonJS file with less work than an ES module (its loader is
// part of Node's start-up snapshot), and this file is all that `--version` loads.
"use strict";

const [, , first, ...rest] = process.argv;
if (rest.length === 0 && (first === "--version" || first === "-v" || first === "version")) {
  // Scripts check the version before anything else: answered without loading the bundle, so that
  // it costs what starting Node costs (npm run bench:cli).
  const { readFileSync, writeSync } = require("node:fs");
  const { version } = JSON.parse(readFileSync(`${__dirname}/../package.json`, "utf8"));
  try {
    // Straight to file descriptor 1: process.stdout would first build a stream (net, streams).
    writeSync(1, `${version}\n`);
  } catch (error) {
    if (error.code !== "EAGAIN") throw error;
    process.stdout.write(`${version}\n`); // a full non-blocking pipe: the stream waits for it
  }
} else if (first === "token" && require("./token-cache-hit.cjs")(rest)) {
  // A cached token that stays valid, printed without loading the bundle (bin/token-cache-hit.cjs
  // says what it owns; anything else falls through to the full CLI below).
} else {
  // V8 keeps the bundle's compiled code on disk (Node 22.1+), so later runs skip most of the
  // parsing and compiling; npm run bench:cli measures the difference. Node's own variables
  // apply: NODE_DISABLE_COMPILE_CACHE=1 turns it off, NODE_COMPILE_CACHE=DIR moves it.
  require("node:module").enableCompileCache?.();
  import("../dist/cli/main.js");
}
