#!/usr/bin/env node
// Published entry: runs the compiled CLI. From a checkout, `node src/cli/main.ts` runs the sources.
import "../dist/cli/main.js";
