/** Network helpers shared by tests and peer launchers. */
import { createServer } from 'node:net'

/**
 * A TCP port of 127.0.0.1 that nothing listens on right now: for a peer to listen on, or for a client
 * to be refused on. (Another process may take it before it is used; the tests accept that race.)
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
