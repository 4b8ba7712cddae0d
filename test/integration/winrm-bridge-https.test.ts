/**
 * The WinRM bridge over HTTPS with a self-signed certificate made by the `openssl` CLI (the helper of
 * the HTTP transport tests): the client trusts it explicitly and runs a WinRS command and, with pwsh,
 * a PowerShell pipeline.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { findPwsh, hasOpenssl, peerSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { PsrpOverBridge, WSManTestClient } from '../helpers/winrm-bridge/test-client.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'
import { winrsCommand, winrsCreate, winrsDelete, winrsReceive } from '../../src/wsman/index.ts'

const openssl = hasOpenssl()
const skip = peerSkip('openssl', openssl, 'install the openssl CLI')
const pwsh = findPwsh()

describe('winrm-bridge over HTTPS (self-signed)', { skip }, () => {
  let certs: TestCertificates
  let bridge: WinRMBridge
  let client: WSManTestClient

  before(async () => {
    certs = makeCertificates()
    bridge = await startWinRMBridge({
      pwsh: pwsh ?? '/nonexistent/pwsh',
      https: { key: certs.selfSignedKey, cert: certs.selfSignedCert },
      username: 'user',
      password: 'secret',
      operationTimeoutCapMs: 2_000,
    })
    client = new WSManTestClient({
      url: bridge.url,
      username: 'user',
      password: 'secret',
      ca: certs.selfSignedCert,
    })
  })
  after(async () => {
    client.close()
    await bridge.close()
  })

  test('the URL is https and an untrusting client is refused by TLS', async () => {
    assert.match(bridge.url, /^https:\/\/127\.0\.0\.1:\d+\/wsman$/)
    const untrusting = new WSManTestClient({ url: bridge.url, username: 'user', password: 'secret' })
    await assert.rejects(untrusting.post('<s:Envelope/>'), /self-signed|self signed/i)
    untrusting.close()
  })

  test('WinRS echo over HTTPS', async () => {
    const created = await client.call(winrsCreate())
    if (created.response.kind !== 'created' || created.response.shellId === undefined)
      throw new Error('no shell')
    const shellId = created.response.shellId
    const c = await client.call(winrsCommand({ shellId, command: 'echo tls' }))
    if (c.response.kind !== 'commandCreated') throw new Error('no command')
    let out = ''
    for (;;) {
      const r = await client.call(winrsReceive({ shellId, commandId: c.response.commandId }))
      if (r.response.kind !== 'receive') continue
      out += r.response.streams.map((s) => Buffer.from(s.data).toString('utf8')).join('')
      if (r.response.commandState?.done === true) break
    }
    assert.equal(out, 'tls\n')
    assert.equal((await client.call(winrsDelete({ shellId }))).response.kind, 'deleted')
  })

  test(
    'a PowerShell pipeline over HTTPS',
    { skip: peerSkip('pwsh', pwsh !== undefined, 'install PowerShell 7') },
    async () => {
      const ps = new PsrpOverBridge(client)
      await ps.open()
      const pid = await ps.start('"over tls"')
      assert.deepEqual((await ps.collect(pid)).outputs, ['over tls'])
      await ps.delete()
    },
  )
})
