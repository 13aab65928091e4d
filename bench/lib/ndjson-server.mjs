// What the bench's bare baseline servers share: a Node NDJSON server on a Unix socket, no project
// code. Each line is parsed and handed to `handle(socket, request)`; "ready" is printed once it
// listens, and SIGTERM closes it.
import net from 'node:net'

export function serveNdjson(socketPath, handle) {
  const server = net.createServer((socket) => {
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      buffer += chunk
      let index
      while ((index = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, index)
        buffer = buffer.slice(index + 1)
        handle(socket, JSON.parse(line))
      }
    })
    socket.on('error', () => {})
  })
  server.listen(socketPath, () => process.stdout.write('ready\n'))
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
