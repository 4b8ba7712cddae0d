/**
 * The one OpenSSH host-pattern matcher (`src/transport/ssh-host-pattern.ts`): `*`/`?` wildcards,
 * literal regex metacharacters, case rules, `!` negation in lists (known_hosts' comma field and
 * ssh_config's `Host` words), `[host]:port` names; agreement with a plain backtracking matcher on
 * every small pattern/name pair; and linear time on `*`-heavy and long patterns (`assertLinear`:
 * OpenSSH's own recursion, and the regex ssh-config.ts used to build, are exponential on them).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  knownHostsName,
  matchPatternList,
  patternListMatch,
  wildcardMatch,
} from '../../../src/transport/ssh-host-pattern.ts'
import { hostPatternsMatch, parseSshConfig, resolveSshConfig } from '../../../src/transport/ssh-config.ts'
import {
  checkHostKey,
  entryMatchesHost,
  parseKnownHosts,
  type KnownHostEntry,
} from '../../../src/transport/known-hosts.ts'
import { assertLinear } from '../complexity/measure.ts'

/** OpenSSH's `match_pattern`, transcribed: recursive backtracking (exponential in the worst case). */
function reference(p: string, s: string): boolean {
  for (let i = 0, j = 0; ; i++, j++) {
    if (i === p.length) return j === s.length
    if (p[i] === '*') {
      while (p[i + 1] === '*') i++
      if (i + 1 === p.length) return true
      for (let k = j; k <= s.length; k++) if (reference(p.slice(i + 1), s.slice(k))) return true
      return false
    }
    if (j === s.length) return false
    if (p[i] !== '?' && p[i] !== s[j]) return false
  }
}

describe('wildcardMatch', () => {
  test('the cases known-hosts.ts and ssh-config.ts handled', () => {
    assert.ok(wildcardMatch('*.example', 'a.b.example'))
    assert.ok(wildcardMatch('10.0.0.?', '10.0.0.7'))
    assert.ok(!wildcardMatch('10.0.0.?', '10.0.0.77'))
    assert.ok(wildcardMatch('a*b*c', 'aXXbYYc'))
    assert.ok(!wildcardMatch('a*b*c', 'aXXbYY'))
    assert.ok(wildcardMatch('WEB', 'web'))
    assert.ok(wildcardMatch('web', 'WEB'))
    assert.ok(wildcardMatch('*', ''))
    assert.ok(wildcardMatch('', ''))
    assert.ok(!wildcardMatch('', 'x'))
    assert.ok(!wildcardMatch('?', ''))
  })

  test('everything but * and ? is literal (no regex meaning)', () => {
    assert.ok(wildcardMatch('[h]:2222', '[h]:2222'))
    assert.ok(!wildcardMatch('[h]:2222', 'h'))
    assert.ok(wildcardMatch('[h]:*', '[h]:2222'))
    assert.ok(!wildcardMatch('a.c', 'abc'))
    assert.ok(wildcardMatch('a+b(c)|$^\\', 'A+B(C)|$^\\'))
    assert.ok(!wildcardMatch('a+', 'aa'))
    assert.ok(wildcardMatch('line\nbreak*', 'line\nbreak and more'))
  })

  test('file names compare case-sensitively when asked', () => {
    assert.ok(wildcardMatch('*.conf', 'a.conf', { caseSensitive: true }))
    assert.ok(!wildcardMatch('*.conf', 'A.CONF', { caseSensitive: true }))
    assert.ok(wildcardMatch('*.conf', 'A.CONF'))
  })

  test('segments longer than one 32-bit word with ? inside (Shift-And over several words)', () => {
    const seg = 'ab?d'.repeat(20) // 80 characters, ? at every 3rd of 4
    const name = `zz${'abXd'.repeat(20)}yy`
    assert.ok(wildcardMatch(`*${seg}*`, name))
    assert.ok(wildcardMatch(`*${seg}yy`, name))
    assert.ok(!wildcardMatch(`*${seg}*`, `zz${'abXd'.repeat(19)}aXXd`))
    // the match only at the very end of the name, after near misses at every word boundary
    const near = `${'abXd'.repeat(19)}ab`.repeat(3) + 'abXd'.repeat(20)
    assert.ok(wildcardMatch(`*${seg}`, near))
    assert.ok(wildcardMatch(`*${seg}*`, near))
  })

  test('agrees with OpenSSH match_pattern on every pattern and name over a small alphabet', () => {
    // all patterns of length ≤ 5 over {a, b, *, ?} against all names of length ≤ 6 over {a, b}
    const words = (alphabet: string, max: number): string[] => {
      const out = ['']
      for (let len = 1, level = ['']; len <= max; len++) {
        level = level.flatMap((w) => [...alphabet].map((c) => w + c))
        out.push(...level)
      }
      return out
    }
    const patterns = words('ab*?', 5)
    const names = words('ab', 6)
    let checked = 0
    for (const p of patterns) {
      for (const s of names) {
        assert.equal(wildcardMatch(p, s), reference(p, s), `${JSON.stringify(p)} vs ${JSON.stringify(s)}`)
        checked++
      }
    }
    assert.equal(checked, patterns.length * names.length)
  })

  test('agrees with match_pattern on random longer patterns (several * segments, ? inside)', () => {
    let seed = 12345
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % k
    }
    const pick = (alphabet: string, len: number): string =>
      Array.from({ length: len }, () => alphabet[rand(alphabet.length)] as string).join('')
    for (let i = 0; i < 3000; i++) {
      const p = pick('aab?*', 1 + rand(14))
      const s = pick('ab', rand(24))
      assert.equal(wildcardMatch(p, s), reference(p, s), `${JSON.stringify(p)} vs ${JSON.stringify(s)}`)
    }
  })
})

describe('pattern lists', () => {
  test('known_hosts fields: comma lists, negation decides, spaces around commas ignored', () => {
    assert.ok(patternListMatch('*.example,!bad.example', 'good.example'))
    assert.ok(!patternListMatch('*.example,!bad.example', 'bad.example'))
    assert.ok(!patternListMatch('!bad.example,*.example', 'bad.example'))
    assert.ok(!patternListMatch('!bad.example', 'other'))
    assert.ok(patternListMatch('a, b ,c', 'b'))
    assert.ok(patternListMatch('server.example,10.0.0.5', '10.0.0.5'))
    assert.ok(!patternListMatch(',,', 'x'))
  })

  test('matchPatternList says which: match, negated or none', () => {
    assert.equal(matchPatternList(['web', 'web.lab', '!bad.lab'], 'web'), 'match')
    assert.equal(matchPatternList(['*.lab', '!bad.lab'], 'bad.lab'), 'negated')
    assert.equal(matchPatternList(['!bad.lab'], 'other'), 'none')
    assert.equal(matchPatternList([], 'x'), 'none')
  })

  test('ssh_config Host words: one pattern per word, a comma is literal there', () => {
    assert.ok(!hostPatternsMatch(['web', '!bad.lab'], 'bad.lab'))
    assert.ok(!hostPatternsMatch(['!bad.lab'], 'other'))
    assert.ok(hostPatternsMatch(['10.0.0.?'], '10.0.0.5'))
    assert.ok(!hostPatternsMatch(['10.0.0.?'], '10.0.0.55'))
    assert.ok(hostPatternsMatch(['WEB'], 'web'))
    assert.ok(!hostPatternsMatch(['a,b'], 'a'))
  })

  test('known_hosts names: [host]:port off port 22, matched by the same patterns', () => {
    assert.equal(knownHostsName('Server.Example', 22), 'server.example')
    assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222')
    assert.equal(knownHostsName('[::1]', 2222), '[::1]:2222')
    assert.ok(entryMatchesHost({ hosts: '[h]:2222' }, 'h', 2222))
    assert.ok(!entryMatchesHost({ hosts: '[h]:2222' }, 'h', 22))
    assert.ok(entryMatchesHost({ hosts: '[*.lab]:22??' }, 'db.lab', 2201))
    assert.ok(!entryMatchesHost({ hosts: '*.lab' }, 'db.lab', 2201))
    assert.ok(entryMatchesHost({ hosts: '[*.lab]:*,!*bad*' }, 'db.lab', 2201))
    assert.ok(!entryMatchesHost({ hosts: '[*.lab]:*,!*bad*' }, 'bad.lab', 2201))
  })
})

/** Input size of a pattern and name pair, for `assertLinear`'s 1 MB rule. */
const pairSize = (input: unknown): number => {
  const { p, s } = input as { p: string; s: string }
  return p.length + s.length
}

describe('linear time on hostile patterns', () => {
  test('*a*a*…*a*c against a name one a short (backtracking: exponential)', () => {
    // every middle segment is found at once; the last one fails after one pass over the name
    assertLinear(
      'stars',
      (n) => ({ p: `*${'a*'.repeat(n)}c`, s: `${'a'.repeat(n - 1)}c` }),
      ({ p, s }) => wildcardMatch(p, s),
      { n: 20_000, sizeOf: pairSize },
    )
    assert.ok(!wildcardMatch(`*${'a*'.repeat(200)}c`, `${'a'.repeat(199)}c`))
    assert.ok(wildcardMatch(`*${'a*'.repeat(200)}c`, `${'a'.repeat(200)}c`))
  })

  test('a long literal segment against a name of near misses (naive search: quadratic)', () => {
    assertLinear(
      'long literal',
      (n) => ({ p: `*${'a'.repeat(n)}b*`, s: 'a'.repeat(2 * n) }),
      ({ p, s }) => wildcardMatch(p, s),
      { n: 20_000, sizeOf: pairSize },
    )
  })

  test('many short segments with ? inside, and a list of many negations', () => {
    assertLinear(
      '? segments',
      // every segment is found but the last, which fails after the rest of the name
      (n) => ({ p: `*${'a?b*'.repeat(n)}`, s: `${'aab'.repeat(n - 1)}aa` }),
      ({ p, s }) => wildcardMatch(p, s),
      { n: 10_000, sizeOf: pairSize },
    )
    // a known_hosts line whose host field is n negated patterns, then one that matches everything
    // (the old known-hosts.ts split the field per lookup; a pattern without '*' must not look past
    // its comma for one)
    const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIKH0zywLSWYRkfjv+SknTvClNVuVLAEfPmRUUd4aFoJ3'
    const blob = new Uint8Array(Buffer.from(key, 'base64'))
    assertLinear(
      'known_hosts pattern list',
      (n) =>
        parseKnownHosts(
          `${Array.from({ length: n }, (_, i) => `!${i % 2 === 0 ? '*' : ''}host-${String(i).padStart(6, '0')}*`).join(',')},* ssh-ed25519 ${key}\n`,
        ),
      (entries) => checkHostKey(entries, 'web.example', 22, blob).status,
      { n: 5_000, sizeOf: (entries) => (entries as KnownHostEntry[])[0]?.hosts.length ?? 0 },
    )
    assert.equal(
      checkHostKey(parseKnownHosts(`!*host1*,* ssh-ed25519 ${key}`), 'web.example', 22, blob).status,
      'match',
    )
  })

  test('ssh_config: a Host line of *a*a*…*b (the old regex took 5.7 s at 14 stars)', () => {
    assertLinear(
      'Host line',
      (n) => ({
        config: parseSshConfig(`Host *${'a*'.repeat(n)}b\n  User u\n`),
        host: `${'a'.repeat(n - 1)}b`,
      }),
      ({ config, host }) => resolveSshConfig(config, host, { localUser: 'me', home: '/h' }).user,
      { n: 5_000, sizeOf: (input) => 3 * (input as { host: string }).host.length },
    )
    const config = parseSshConfig(`Host *${'a*'.repeat(30)}b\n  User u\n`)
    assert.equal(
      resolveSshConfig(config, `${'a'.repeat(29)}b`, { localUser: 'me', home: '/h' }).user,
      undefined,
    )
    assert.equal(resolveSshConfig(config, `${'a'.repeat(30)}b`, { localUser: 'me', home: '/h' }).user, 'u')
  })

  test('a long name against one ?-segment of fixed length (Shift-And reads the name once)', () => {
    const seg = 'a?'.repeat(40) // 80 characters: three words of state
    assertLinear(
      'long name',
      (n) => 'a'.repeat(n),
      (s) => wildcardMatch(`*${seg}b*`, s),
      { n: 20_000 },
    )
  })
})
