/**
 * The TCP socket under {@link SSHConnection}: Nagle's algorithm is off. OutOfProc sends one packet per
 * pipeline and waits for its acknowledgement, so with Nagle on, the tail of every packet waited for
 * the server's delayed ACK (40 ms on Linux) and uploads over SSH crawled at ~700 KiB/s (the speed
 * itself is measured by `npm run bench`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, Socket, type AddressInfo } from 'node:net'
import { SSHConnection } from '../../../src/index.ts'

test('the SSH connection sets TCP_NODELAY on its socket', async () => {
  // the remote ports of the sockets that were asked for no delay (recorded once they connect)
  const noDelayTo: (number | undefined)[] = []
  const original = Socket.prototype.setNoDelay
  Socket.prototype.setNoDelay = function (this: Socket, noDelay?: boolean): Socket {
    if (noDelay !== false) this.once('connect', () => noDelayTo.push(this.remotePort))
    return original.call(this, noDelay)
  }
  // a server that accepts and hangs up: no SSH needed to see how the client set up its socket
  let accepted = 0
  const server = createServer((c) => {
    accepted++
    c.destroy()
  })
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    const conn = new SSHConnection({
      host: '127.0.0.1',
      port,
      username: 'nobody',
      password: 'x',
      hostKey: 'insecure-accept-any',
      sshConfig: false,
      connectTimeout: 5_000,
    })
    await assert.rejects(conn.start())
    await conn.close()
    assert.equal(accepted, 1, 'the client connected once')
    assert.deepEqual(noDelayTo, [port])
  } finally {
    Socket.prototype.setNoDelay = original
    server.close()
  }
})
