/** Fleet target text: every form of the module comment, and the errors of bad text. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fleetTargetKey, parseFleetTarget, parseInventory } from '../../../src/client/fleet-target.ts'
import { InvalidArgumentError } from '../../../src/errors.ts'

test('bare host names take the default kind, with optional user and port', () => {
  assert.deepEqual(parseFleetTarget('win1'), { kind: 'wsman', host: 'win1', text: 'win1' })
  assert.deepEqual(parseFleetTarget(' admin@win1:5986 '), {
    kind: 'wsman',
    host: 'win1',
    port: 5986,
    username: 'admin',
    text: 'admin@win1:5986',
  })
  assert.equal(parseFleetTarget('win1', 'ssh').kind, 'ssh')
  assert.deepEqual(parseFleetTarget('DOMAIN%5Cuser@win1'), {
    kind: 'wsman',
    host: 'win1',
    username: 'DOMAIN\\user',
    text: 'DOMAIN%5Cuser@win1',
  })
})

test('IPv6 addresses, bracketed with a port or bare', () => {
  assert.deepEqual(parseFleetTarget('[fe80::1]:5985'), {
    kind: 'wsman',
    host: 'fe80::1',
    port: 5985,
    text: '[fe80::1]:5985',
  })
  assert.equal(parseFleetTarget('fe80::1').host, 'fe80::1')
  assert.equal(parseFleetTarget('fe80::1').port, undefined)
})

test('schemes choose the kind; http(s) set TLS and keep the path', () => {
  assert.deepEqual(parseFleetTarget('https://win1/wsman-jea'), {
    kind: 'wsman',
    host: 'win1',
    ssl: true,
    path: '/wsman-jea',
    text: 'https://win1/wsman-jea',
  })
  assert.deepEqual(parseFleetTarget('HTTP://win1:8080'), {
    kind: 'wsman',
    host: 'win1',
    port: 8080,
    ssl: false,
    text: 'HTTP://win1:8080',
  })
  assert.deepEqual(parseFleetTarget('ssh://ops@linux1:2222', 'wsman'), {
    kind: 'ssh',
    host: 'linux1',
    port: 2222,
    username: 'ops',
    text: 'ssh://ops@linux1:2222',
  })
  assert.deepEqual(parseFleetTarget('local'), { kind: 'local', host: 'localhost', text: 'local' })
})

test('bad targets are InvalidArgumentError naming the target', () => {
  for (const bad of [
    '',
    '  ',
    'ftp://x',
    'win1:0',
    'win1:99999',
    'win1:ab',
    '@win1',
    '[::1',
    '[::1]x',
    'ssh://h/p',
    'https://',
  ]) {
    assert.throws(() => parseFleetTarget(bad), InvalidArgumentError, bad)
  }
  assert.throws(() => parseFleetTarget('win1:70000'), /win1:70000.*bad port/)
})

test('inventory: one target per line, comments and blank lines skipped, bad lines numbered', () => {
  const targets = parseInventory(
    '# web tier\nweb1\n\n  ssh://ops@web2  # the linux one\r\nhttps://db1:5986/wsman\n',
  )
  assert.deepEqual(
    targets.map((t) => [t.kind, t.host]),
    [
      ['wsman', 'web1'],
      ['ssh', 'web2'],
      ['wsman', 'db1'],
    ],
  )
  assert.throws(() => parseInventory('web1\nweb2:0\n'), /inventory line 2: .*bad port/)
})

test('the reuse key: same endpoint and user are equal, host case ignored, anything else differs', () => {
  const key = (t: string): string => fleetTargetKey(parseFleetTarget(t))
  assert.equal(key('a@WIN1:5985'), key('a@win1:5985'))
  assert.notEqual(key('a@win1'), key('b@win1'))
  assert.notEqual(key('win1'), key('win1:5986'))
  assert.notEqual(key('win1'), key('ssh://win1'))
  assert.notEqual(key('https://win1'), key('http://win1'))
})
