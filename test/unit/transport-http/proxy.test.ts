import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.ts'
import { matchesNoProxy, parseProxyUrl, proxyFromEnv } from '../../../src/transport/http/proxy.ts'

describe('NO_PROXY matching', () => {
  const cases: Array<[string, string, number, boolean]> = [
    ['*', 'anything', 5986, true],
    ['example.com', 'example.com', 5986, true],
    ['example.com', 'win1.example.com', 5986, true],
    ['example.com', 'badexample.com', 5986, false],
    ['.example.com', 'win1.example.com', 5986, true],
    ['.example.com', 'example.com', 5986, true],
    ['*.example.com', 'win1.EXAMPLE.com', 5986, true],
    ['EXAMPLE.COM', 'win1.example.com.', 5986, true],
    ['example.com:5986', 'win1.example.com', 5986, true],
    ['example.com:5985', 'win1.example.com', 5986, false],
    ['localhost, 127.0.0.1', '127.0.0.1', 5985, true],
    ['localhost 10.0.0.1', '10.0.0.1', 5985, true],
    ['localhost', '127.0.0.1', 5985, false],
    ['10.0.0.0/8', '10.1.2.3', 5985, true],
    ['10.0.0.0/8', '11.1.2.3', 5985, false],
    ['192.168.1.0/24:5986', '192.168.1.7', 5986, true],
    ['::1', '::1', 5986, true],
    ['[::1]:5986', '::1', 5986, true],
    ['[::1]:5985', '::1', 5986, false],
    ['fd00::/8', 'fd12:3456::1', 5986, true],
    ['fd00::/8', 'fe80::1', 5986, false],
    ['', 'example.com', 5986, false],
    [',,', 'example.com', 5986, false],
  ]
  for (const [noProxy, host, port, expected] of cases) {
    test(`${JSON.stringify(noProxy)} ${expected ? 'matches' : 'does not match'} ${host}:${port}`, () => {
      assert.equal(matchesNoProxy(noProxy, host, port), expected)
    })
  }
})

describe('proxy selection from the environment', () => {
  const target = { secure: true, host: 'win1.example.com', port: 5986 }

  test('https targets use https_proxy; http targets use http_proxy; all_proxy is the fallback', () => {
    const env = { HTTPS_PROXY: 'http://s:3128', HTTP_PROXY: 'http://p:8080' }
    assert.equal(proxyFromEnv(env, target)?.display, 'http://s:3128')
    assert.equal(proxyFromEnv(env, { ...target, secure: false })?.display, 'http://p:8080')
    assert.equal(proxyFromEnv({ ALL_PROXY: 'http://a:1' }, target)?.display, 'http://a:1')
    assert.equal(proxyFromEnv({}, target), undefined)
  })

  test('lower-case variables win over upper-case', () => {
    assert.equal(
      proxyFromEnv({ https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:1' }, target)?.host,
      'low',
    )
  })

  test('NO_PROXY / no_proxy exclude the host', () => {
    assert.equal(proxyFromEnv({ HTTPS_PROXY: 'http://s:3128', NO_PROXY: '.example.com' }, target), undefined)
    assert.equal(proxyFromEnv({ HTTPS_PROXY: 'http://s:3128', no_proxy: '*' }, target), undefined)
  })
})

describe('proxy URL parsing', () => {
  test('credentials become Proxy-Authorization and stay out of the display form', () => {
    const p = parseProxyUrl('http://us%40er:p%3Ass@proxy.local:3128')
    assert.equal(p.host, 'proxy.local')
    assert.equal(p.port, 3128)
    assert.equal(p.display, 'http://proxy.local:3128')
    assert.equal(p.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`)
  })

  test('defaults: scheme http, port 80/443; IPv6 hosts', () => {
    assert.equal(parseProxyUrl('proxy:8080').protocol, 'http:')
    assert.equal(parseProxyUrl('http://proxy').port, 80)
    assert.equal(parseProxyUrl('https://proxy').port, 443)
    assert.equal(parseProxyUrl('http://[::1]:3128').host, '::1')
  })

  test('unsupported or invalid URLs are InvalidArgumentError without echoing them', () => {
    assert.throws(() => parseProxyUrl('socks5://p:1080'), InvalidArgumentError)
    assert.throws(
      () => parseProxyUrl('http://user:secret@'),
      (e: unknown) => e instanceof InvalidArgumentError && !e.message.includes('secret'),
    )
  })
})
