/**
 * Client options pypsrp users expect (issue 16): the server as a full URI, a pool per configuration
 * name chosen per call, positional arguments of runPs. Over the WinRM test bridge (real `pwsh -s`
 * behind WS-Man) and a local pwsh.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Client, NotSupportedError, RunspacePool, WSManConnection } from '../../src/index.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge } from '../helpers/winrm-bridge/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const USER = 'psrp'
const PASSWORD = 'opt pässword'

describe('Client options over the WinRM bridge', { skip }, () => {
  let bridge: Awaited<ReturnType<typeof startWinRMBridge>>
  before(async () => {
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: USER, password: PASSWORD })
  })
  after(() => bridge.close())
  const auth = { auth: 'basic' as const, username: USER, password: PASSWORD, allowUnencryptedBasic: true }

  test(
    'a full URI as the target; a pool per configurationName, opened on use, closed with the client',
    { timeout: 120_000 },
    async () => {
      const client = new Client(`http://127.0.0.1:${bridge.port}/wsman`, { ...auth, operationTimeout: 5 })
      const observer = new WSManConnection({ server: `http://127.0.0.1:${bridge.port}/wsman`, ...auth })
      const resourceUris = async (): Promise<string[]> =>
        (await RunspacePool.getRunspacePools(observer)).map((p) => p.resourceUri ?? '').sort()
      try {
        assert.deepEqual((await client.runPs('"default"')).output, ['default'])
        assert.deepEqual((await client.runPs('"jea"', { configurationName: 'Psrp.Jea' })).output, ['jea'])
        assert.deepEqual((await client.runPs('"again"', { configurationName: 'Psrp.Jea' })).output, ['again'])
        assert.deepEqual(await resourceUris(), [
          'http://schemas.microsoft.com/powershell/Microsoft.PowerShell',
          'http://schemas.microsoft.com/powershell/Psrp.Jea',
        ])
        await client.close()
        assert.deepEqual(await resourceUris(), [])
      } finally {
        await client.close()
        await observer.close()
      }
    },
  )

  test(
    'runPs binds positional arguments, with and without cwd, next to named parameters',
    { timeout: 120_000 },
    async () => {
      await using client = new Client('127.0.0.1', {
        ...auth,
        port: bridge.port,
        ssl: false,
        operationTimeout: 5,
      })
      assert.deepEqual((await client.runPs('param($a, $b) "$a-$b"', { arguments: ['x', 'y'] })).output, [
        'x-y',
      ])
      assert.deepEqual((await client.runPs('$args.Count; $args[1]', { arguments: [1, 2, 3] })).output, [3, 2])
      assert.deepEqual(
        (await client.runPs('param($a, $b) "$a-$b"', { arguments: ['p'], parameters: { b: 'n' } })).output,
        ['p-n'],
      )
      assert.deepEqual(
        (await client.runPs('param($a, $b) "$a-$b"', { arguments: ['x', 'y'], cwd: '/' })).output,
        ['x-y'],
      )
    },
  )
})

describe('Client options over a local pwsh', { skip }, () => {
  test('configurationName is refused over a connection that is not WinRM', async () => {
    await using client = new Client({ local: true, executable: pwsh as string })
    await assert.rejects(client.runPs('1', { configurationName: 'Psrp.Jea' }), NotSupportedError)
  })
})

describe('RunspacePool.open session name and output buffering mode over the WinRM bridge', { skip }, () => {
  let bridge: Awaited<ReturnType<typeof startWinRMBridge>>
  before(async () => {
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: USER, password: PASSWORD })
  })
  after(() => bridge.close())

  test(
    'the shell carries rsp:Name and rsp:BufferMode; a WS-Man Enumerate of the shells shows them',
    { timeout: 120_000 },
    async () => {
      const conn = new WSManConnection({
        server: `http://127.0.0.1:${bridge.port}/wsman`,
        auth: 'basic',
        username: USER,
        password: PASSWORD,
        allowUnencryptedBasic: true,
        operationTimeout: 5,
      })
      try {
        await using named = await RunspacePool.open(conn, {
          timeout: 60_000,
          sessionName: 'psrp-nightly',
          outputBufferingMode: 'Drop',
        })
        await using plain = await RunspacePool.open(conn, { timeout: 60_000 })
        const shells = await RunspacePool.getRunspacePools(conn)
        const of = (id: string) => shells.find((s) => s.shellId?.toLowerCase() === id)
        assert.equal(of(named.id)?.name, 'psrp-nightly')
        assert.equal(of(named.id)?.bufferMode, 'Drop')
        assert.equal(of(plain.id)?.name, undefined)
        assert.equal(of(plain.id)?.bufferMode, 'Block')
        await assert.rejects(
          RunspacePool.open(conn, { timeout: 60_000, outputBufferingMode: 'drop' as 'Drop' }),
          /'Block' or 'Drop'/,
        )
      } finally {
        await conn.close()
      }
    },
  )
})
