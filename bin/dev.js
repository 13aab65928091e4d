#!/usr/bin/env node
// Runs the TypeScript sources through tsx (registered by @oclif/core in development mode).
// Note: when oclif.manifest.json exists (after `npm run build`), oclif follows it to dist/.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
