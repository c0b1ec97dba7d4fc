#!/usr/bin/env node
// Published entry: runs the bundled CLI (scripts/build.ts). From a checkout, `node src/cli/main.ts`
// runs the sources.
import { readFileSync } from "node:fs";
import module from "node:module";

const [, , first, ...rest] = process.argv;
if (rest.length === 0 && (first === "--version" || first === "-v" || first === "version")) {
  // Scripts check the version before anything else: answer it without loading the bundle, so
  // that it costs what starting Node costs (npm run bench:cli).
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(manifest.version + "\n");
} else {
  // V8 keeps the bundle's compiled code on disk (Node 22.1+), so later runs skip most of the
  // parsing and compiling; npm run bench:cli measures the difference. Node's own variables
  // apply: NODE_DISABLE_COMPILE_CACHE=1 turns it off, NODE_COMPILE_CACHE=DIR moves it.
  module.enableCompileCache?.();
  await import("../dist/cli/main.js");
}
