// The RPC baseline: a bare Node NDJSON server on a Unix socket that parses each line and
// answers with a JSON-RPC result. Whatever the daemon costs beyond this is ours. Given a file, it
// answers with the JSON in it (the daemon's own reply to the call being timed), so both send
// replies of the same size; else with a small result.
// Usage: node echo-server.mjs <socket> [result.json]; prints "ready" once listening.
import {readFileSync} from 'node:fs'

import {serveNdjson} from './ndjson-server.mjs'

const result = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], 'utf8')) : {status: 'ok'}

serveNdjson(process.argv[2], (socket, request) => socket.write(`${JSON.stringify({jsonrpc: '2.0', result, id: request.id})}\n`))
