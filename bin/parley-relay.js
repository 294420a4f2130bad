#!/usr/bin/env node
// The built relay (npm run build:relay, run by `npm ci` through the prepare script).
import('../dist/relay/cli/cli.js');
