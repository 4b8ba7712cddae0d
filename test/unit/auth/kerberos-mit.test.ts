/**
 * Cross-check of string-to-key against MIT krb5 (a reference implementation available offline:
 * Debian's `krb5-user` gives `ktutil` and `klist`). ktutil derives keys from a password with the
 * enctype's default iteration count and either the principal's default salt (realm ‖ components) or an
 * explicit `-s` salt; `klist -k -K -e` prints them. Skipped with a message when the tools are absent.
 * Not part of any CI recipe.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  getProfile,
  principalSalt,
  stringToKey,
  SUPPORTED_ENCTYPES,
} from '../../../src/auth/kerberos/index.ts'
import { toHex } from '../../../src/internal/bytes.ts'
import { peerSkip } from '../../helpers/peers.ts'

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0
}

interface Case {
  principal: string
  realm: string
  components: string[]
  password: string
  salt?: string
}

const CASES: Case[] = [
  { principal: 'alice@EXAMPLE.COM', realm: 'EXAMPLE.COM', components: ['alice'], password: 'S3cret!pw' },
  {
    principal: 'HTTP/win1.example.com@EXAMPLE.COM',
    realm: 'EXAMPLE.COM',
    components: ['HTTP', 'win1.example.com'],
    password: 'Passw0rd!',
  },
  { principal: 'bob@LAB.TEST', realm: 'LAB.TEST', components: ['bob'], password: 'pässwörd € 𝄞' },
  {
    principal: 'carol@LAB.TEST',
    realm: 'LAB.TEST',
    components: ['carol'],
    password: 'x'.repeat(70),
    salt: 'CUSTOM.SALTcarol-from-etype-info2',
  },
]

// a missing MIT krb5 skips here and fails under PSRP_REQUIRE_PEERS=1 (CI installs krb5-user)
const skip = peerSkip(
  'MIT krb5 ktutil/klist',
  have('ktutil') && have('klist'),
  'apt-get install -y krb5-user',
)

test('string-to-key matches MIT krb5 ktutil for every enctype (default iterations)', { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-ktutil-'))
  try {
    const keytab = join(dir, 'x.keytab')
    let script = ''
    let kvno = 0
    const expected = new Map<number, { c: Case; enctype: number }>()
    for (const c of CASES) {
      for (const enctype of SUPPORTED_ENCTYPES) {
        kvno++
        expected.set(kvno, { c, enctype })
        const salt = c.salt === undefined ? '' : ` -s ${c.salt}`
        script += `addent -password -p ${c.principal} -k ${kvno} -e ${getProfile(enctype).name}${salt}\n${c.password}\n`
      }
    }
    script += `wkt ${keytab}\nq\n`
    const kt = spawnSync('ktutil', [], { input: script, encoding: 'utf8' })
    assert.equal(kt.status, 0, kt.stderr)
    const kl = spawnSync('klist', ['-k', '-K', '-e', keytab], { encoding: 'utf8' })
    assert.equal(kl.status, 0, kl.stderr)
    // "   3 alice@EXAMPLE.COM (aes128-cts-hmac-sha256-128)  (0x…)"
    const rows = [...kl.stdout.matchAll(/^\s*(\d+)\s+(\S+)\s+\(([\w-]+)\)\s+\(0x([0-9a-f]+)\)/gm)]
    assert.equal(rows.length, expected.size, kl.stdout)
    for (const [, kvnoText, principal, etypeName, keyHex] of rows) {
      const e = expected.get(Number(kvnoText))
      assert.ok(e !== undefined)
      assert.equal(principal, e.c.principal)
      assert.equal(etypeName, getProfile(e.enctype).name)
      const salt = e.c.salt ?? principalSalt(e.c.realm, e.c.components)
      assert.equal(
        toHex(stringToKey(e.enctype, e.c.password, salt).value),
        keyHex,
        `${principal} ${etypeName}`,
      )
    }
    t.diagnostic(`compared ${rows.length} keys with MIT krb5 ktutil`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
