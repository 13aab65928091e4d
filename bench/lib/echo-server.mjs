// The RPC baseline: a bare Node NDJSON server on a Unix socket that parses each line and
// answers with a small JSON-RPC result. Whatever the daemon costs beyond this is ours.
// Usage: node echo-server.mjs <socket>; prints "ready" once listening.
import net from 'node:net'

const server = net.createServer((socket) => {
  let buffer = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk) => {
    buffer += chunk
    let index
    while ((index = buffer.indexOf('\n')) !== -1) {
      const request = JSON.parse(buffer.slice(0, index))
      buffer = buffer.slice(index + 1)
      socket.write(`${JSON.stringify({jsonrpc: '2.0', result: {status: 'ok'}, id: request.id})}\n`)
    }
  })
  socket.on('error', () => {})
})
server.listen(process.argv[2], () => process.stdout.write('ready\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
