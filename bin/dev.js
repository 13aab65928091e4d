#!/usr/bin/env node
// Runs the TypeScript sources through tsx (registered by @oclif/core in development mode).
// Note: when oclif.manifest.json exists (after `npm run build`), oclif follows it to dist/.
// CommonJS like bin/run.js (bin/package.json); dir is the package root, not bin/ (see run.js).
'use strict'
const path = require('node:path')

import('@oclif/core').then(({execute}) => execute({development: true, dir: path.join(__dirname, '..')}))
