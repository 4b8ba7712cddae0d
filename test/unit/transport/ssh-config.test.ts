/**
 * ssh_config(5) subset: Host blocks with wildcards and negation, first value wins, accumulating
 * IdentityFile, `Keyword=value` and quotes, Match all, Include through a reader, token and `~`
 * expansion.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { hostPatternsMatch, parseSshConfig, resolveSshConfig } from '../../../src/transport/ssh-config.ts'

const ctx = { localUser: 'me', home: '/home/me' }

describe('ssh_config', () => {
  const text = `
# global defaults come first only if written first
ServerAliveInterval 30

Host web web.lab !bad.lab
  HostName %h.internal.example
  User admin
  Port 2200
  IdentityFile ~/.ssh/id_web
  IdentityFile "/keys/with space/%r@%h"

Host *.lab
  User labuser
  Port=2201
  UserKnownHostsFile ~/.ssh/known_hosts.lab /etc/lab_hosts
  HostKeyAlias lab-alias
  StrictHostKeyChecking Yes

Match exec "true"
  User never

Match all
  IdentityFile %d/.ssh/id_all
  ConnectTimeout 7

Host *
  User fallback
  IdentitiesOnly yes
`
  const cfg = parseSshConfig(text)

  test('the first matching value wins; IdentityFile accumulates in order', () => {
    const r = resolveSshConfig(cfg, 'web', ctx)
    assert.equal(r.hostName, 'web.internal.example')
    assert.equal(r.user, 'admin')
    assert.equal(r.port, 2200)
    assert.deepEqual(r.identityFiles, [
      '/home/me/.ssh/id_web',
      '/keys/with space/admin@web.internal.example',
      '/home/me/.ssh/id_all',
    ])
    assert.equal(r.serverAliveInterval, 30)
    assert.equal(r.connectTimeout, 7)
    assert.equal(r.identitiesOnly, true)
    assert.equal(r.hostKeyAlias, undefined)
  })

  test('wildcards, Keyword=value, several known_hosts files, Match exec never matches', () => {
    const r = resolveSshConfig(cfg, 'db.lab', ctx)
    assert.equal(r.hostName, 'db.lab')
    assert.equal(r.user, 'labuser')
    assert.equal(r.port, 2201)
    assert.deepEqual(r.userKnownHostsFiles, ['/home/me/.ssh/known_hosts.lab', '/etc/lab_hosts'])
    assert.equal(r.hostKeyAlias, 'lab-alias')
    assert.equal(r.strictHostKeyChecking, 'yes')
  })

  test('a negated pattern excludes the host from the whole Host line', () => {
    assert.equal(resolveSshConfig(cfg, 'bad.lab', ctx).user, 'labuser')
    assert.ok(!hostPatternsMatch(['web', '!bad.lab'], 'bad.lab'))
    assert.ok(!hostPatternsMatch(['!bad.lab'], 'other'))
    assert.ok(hostPatternsMatch(['10.0.0.?'], '10.0.0.5'))
    assert.ok(!hostPatternsMatch(['10.0.0.?'], '10.0.0.55'))
    assert.ok(hostPatternsMatch(['WEB'], 'web'))
  })

  test('unmatched hosts get the catch-all values and their own name', () => {
    const r = resolveSshConfig(cfg, 'plain.example', ctx)
    assert.equal(r.hostName, 'plain.example')
    assert.equal(r.user, 'fallback')
    assert.equal(r.port, undefined)
    assert.deepEqual(r.identityFiles, ['/home/me/.ssh/id_all'])
  })

  test('Include pulls in other files at its position; without a reader it is ignored', () => {
    const main = parseSshConfig('Include conf.d/*\nHost x\n  User fromMain\n')
    const included = ['Host x\n  User fromInclude\n  Port 2022\n']
    const seen: string[] = []
    const r = resolveSshConfig(main, 'x', {
      ...ctx,
      include: (p) => {
        seen.push(p)
        return included
      },
    })
    assert.deepEqual(seen, ['conf.d/*'])
    assert.equal(r.user, 'fromInclude')
    assert.equal(r.port, 2022)
    assert.equal(resolveSshConfig(main, 'x', ctx).user, 'fromMain')
  })

  test('IdentityFile none, bad ports and junk lines are tolerated', () => {
    const r = resolveSshConfig(
      parseSshConfig('Host *\n IdentityFile none\n Port abc\n ===\n  \tUser\t"quoted user"\n'),
      'h',
      ctx,
    )
    assert.deepEqual(r.identityFiles, [])
    assert.equal(r.port, undefined)
    assert.equal(r.user, 'quoted user')
  })
})
