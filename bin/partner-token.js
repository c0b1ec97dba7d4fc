#!/usr/bin/env node
// Published entry: runs the bundled CLI (scripts/build.ts). From a checkout, `node src/cli/main.ts`
// runs the sources.
import module from "node:module";

// V8 keeps the compiled bundle on disk (Node 22.1+), so later runs skip most parsing and
// compiling; npm run bench:cli measures the difference. PARTNER_TOKEN_NO_COMPILE_CACHE=1 turns it
// off, NODE_COMPILE_CACHE=DIR moves it.
if (!process.env.PARTNER_TOKEN_NO_COMPILE_CACHE) module.enableCompileCache?.();
await import("../dist/cli/main.js");
