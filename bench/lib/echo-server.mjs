// The RPC baseline: a bare Node NDJSON server on a Unix socket that parses each line and
// answers with a JSON-RPC result. Whatever the daemon costs beyond this is ours. Given a file, it
// answers with the JSON in it (the daemon's own reply to the call being timed), so both send
// replies of the same size; else with a small result.
// Usage: node echo-server.mjs <socket> [result.json]; prints "ready" once listening.
import {readFileSync} from 'node:fs'
import net from 'node:net'

const result = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], 'utf8')) : {status: 'ok'}

const server = net.createServer((socket) => {
  let buffer = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk) => {
    buffer += chunk
    let index
    while ((index = buffer.indexOf('\n')) !== -1) {
      const request = JSON.parse(buffer.slice(0, index))
      buffer = buffer.slice(index + 1)
      socket.write(`${JSON.stringify({jsonrpc: '2.0', result, id: request.id})}\n`)
    }
  })
  socket.on('error', () => {})
})
server.listen(process.argv[2], () => process.stdout.write('ready\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
