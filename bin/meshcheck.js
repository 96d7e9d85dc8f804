#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli (npm run build).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('meshcheck: not built yet; run `npm run build` (or `npm run setup && npm run build`) first\n');
    process.exit(3);
  }
  throw err;
});
