/**
 * Regenerates kcm-replies.json: the bytes a real sssd-kcm sent back, as read from its Unix socket,
 * while `readKcmCCache` read a cache MIT `kinit` had stored there (GET_PRINCIPAL, GET_KDC_OFFSET,
 * GET_CRED_UUID_LIST, GET_CRED_BY_UUID per credential), plus the answer to GET_DEFAULT_CACHE and to a
 * cache that does not exist. The fuzz tests use them as seeds. Lab tool, not CI: needs the test KDC
 * (krb5-kdc, krb5-user) and sssd-kcm, run as root.
 *
 *   node --import tsx test/vectors/auth/kerberos/kcm-replies-generate.ts      (from the repository root)
 *
 * The realm is a throwaway one on 127.0.0.1; its keys exist only in these bytes.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readKcmCCache } from '../../../../src/auth/kerberos/ccache-kcm.ts'
import { connectKcm } from '../../../../src/transport/kcm.ts'
import { startKdc } from '../../../peers/kdc/kdc.ts'
import { startSssdKcm } from '../../../peers/kcm/sssd-kcm.ts'

const kcm = await startSssdKcm()
const kdc = await startKdc()
const dir = mkdtempSync(join(tmpdir(), 'psrp-kcm-gen-'))
const conf = join(dir, 'krb5.conf')
writeFileSync(
  conf,
  readFileSync(kdc.krb5ConfPath, 'utf8').replace(
    '[libdefaults]',
    `[libdefaults]\n    kcm_socket = ${kcm.socketPath}`,
  ),
)
const name = 'KCM:0:psrp-fuzz-seed'
const env = { ...kdc.env, KRB5_CONFIG: conf, KRB5CCNAME: name }
const kinit = spawnSync('/usr/bin/kinit', ['-f', 'alice'], { env, input: `${kdc.password}\n`, encoding: 'utf8' })
if (kinit.status !== 0) throw new Error(`kinit: ${kinit.stderr}`)

/** A proxy socket recording what the daemon sends, one buffer per session. */
const proxyPath = join(dir, 'kcm-proxy')
const recorded: Buffer[][] = []
const proxy = createServer((client: Socket) => {
  const chunks: Buffer[] = []
  recorded.push(chunks)
  const daemon = connect({ path: kcm.socketPath })
  client.pipe(daemon)
  daemon.on('data', (c: Buffer) => {
    chunks.push(c)
    client.write(c)
  })
  daemon.on('close', () => client.destroy())
  client.on('close', () => daemon.destroy())
})
await new Promise<void>((resolve) => proxy.listen(proxyPath, resolve))

try {
  for (const residual of [name.slice(4), '', '0:psrp-no-such-cache']) {
    const connection = await connectKcm(proxyPath)
    try {
      await readKcmCCache(connection, residual).catch((e: unknown) => {
        if (residual !== '0:psrp-no-such-cache') throw e
      })
    } finally {
      connection.close()
    }
  }
  await new Promise((r) => setTimeout(r, 200))
  const sessions = recorded.map((chunks) => Buffer.concat(chunks).toString('hex'))
  writeFileSync(
    join(import.meta.dirname, 'kcm-replies.json'),
    `${JSON.stringify(
      {
        about:
          'Replies of a real sssd-kcm (Debian 12) read off its socket, one string per connection: a named cache ' +
          'kinit -f alice stored (principal, KDC offset, UUID list, credentials), the default cache, a missing ' +
          'cache. Made by kcm-replies-generate.ts; throwaway realm.',
        sessions,
      },
      null,
      2,
    )}\n`,
  )
  console.log(`${sessions.length} sessions, ${sessions.map((s) => s.length / 2).join(', ')} bytes`)
} finally {
  spawnSync('/usr/bin/kdestroy', ['-c', name], { env })
  proxy.close()
  await kdc.close()
  await kcm.close()
  rmSync(dir, { recursive: true, force: true })
}
