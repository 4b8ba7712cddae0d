/**
 * `SSHConnectionOptions.maxLineLength` reaches the OutOfProc line reader: an in-process ssh2 server
 * (password login, a pinned host key) answers the `powershell` subsystem's first packet with one
 * line longer than the limit, and `RunspacePool.open` rejects with the reader's `ProtocolError`
 * naming the limit; the same line under a larger limit gets past the reader (to the session, which
 * refuses it as not an OutOfProc packet). Bad values are refused by the constructor.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import ssh2 from 'ssh2'
import { InvalidArgumentError, ProtocolError, RunspacePool, SSHConnection } from '../../../src/index.ts'
import { sha256Fingerprint } from '../../../src/transport/known-hosts.ts'

const { Server, utils } = ssh2

/** A server whose `powershell` subsystem answers the first bytes it reads with `line` and a newline. */
function lineServer(line: string): InstanceType<typeof Server> & { fingerprint: string } {
  const { private: hostKey } = utils.generateKeyPairSync('ed25519')
  const parsed = utils.parseKey(hostKey)
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('host key')
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === 'u' && ctx.password === 'p') ctx.accept()
      else ctx.reject(['password'])
    })
    client.on('session', (accept) => {
      const session = accept()
      session.on('subsystem', (acceptSubsystem, _reject, info) => {
        assert.equal(info.name, 'powershell')
        const channel = acceptSubsystem()
        channel.once('data', () => channel.write(`${line}\n`))
      })
    })
    client.on('error', () => {})
  })
  return Object.assign(server, { fingerprint: sha256Fingerprint(new Uint8Array(parsed.getPublicSSH())) })
}

describe('SSHConnection maxLineLength', () => {
  const server = lineServer('x'.repeat(5000))
  let port = 0
  before(async () => {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })
  after(() => server.close())

  const connection = (limits: {
    maxLineLength?: number
    session?: { maxLineLength: number }
  }): SSHConnection =>
    new SSHConnection({
      host: '127.0.0.1',
      port,
      username: 'u',
      password: 'p',
      hostKey: { fingerprint: server.fingerprint },
      sshConfig: false,
      agent: false,
      connectTimeout: 20_000,
      ...limits,
    })

  test('a line over the limit fails open() with ProtocolError naming the limit', async () => {
    const conn = connection({ maxLineLength: 4096 })
    await assert.rejects(RunspacePool.open(conn), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, String(e))
      assert.equal(e.code, 'ERR_PROTOCOL')
      assert.equal(e.side, 'remote')
      assert.match(e.message, /received a line longer than 4096 characters/)
      return true
    })
    assert.equal(conn.authenticatedWith, 'password')
    await conn.close().catch(() => {})
  })

  test('the option takes precedence over session.maxLineLength', async () => {
    const conn = connection({ maxLineLength: 4000, session: { maxLineLength: 1_000_000 } })
    await assert.rejects(RunspacePool.open(conn), /received a line longer than 4000 characters/)
    await conn.close().catch(() => {})
  })

  test('under a larger limit the same line gets past the reader', async () => {
    const conn = connection({ maxLineLength: 6000 })
    await assert.rejects(RunspacePool.open(conn), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, String(e))
      assert.doesNotMatch(e.message, /longer than/)
      return true
    })
    await conn.close().catch(() => {})
  })

  test('a limit that is not a positive integer is refused by the constructor', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => connection({ maxLineLength: bad }), InvalidArgumentError, String(bad))
    }
  })
})
