import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveServerUri } from '../../../src/transport/server-uri.ts'
import { InvalidArgumentError, WSManConnection } from '../../../src/index.ts'

test('a plain host name is left as it is', () => {
  const o = { server: 'win1', port: 1234 }
  assert.equal(resolveServerUri(o), o)
})

test('a URI sets ssl, port and path; a missing port is the scheme default', () => {
  assert.deepEqual(resolveServerUri({ server: 'https://win1.example.com:5986/wsman' }), {
    server: 'win1.example.com',
    ssl: true,
    port: 5986,
    path: '/wsman',
  })
  assert.deepEqual(resolveServerUri({ server: 'http://host/custom' }), {
    server: 'host',
    ssl: false,
    port: 5985,
    path: '/custom',
  })
  // WHATWG drops the scheme's own default port (443/80) from url.port: it is still that port
  assert.deepEqual(resolveServerUri({ server: 'https://host:443' }), {
    server: 'host',
    ssl: true,
    port: 443,
    path: undefined,
  })
  assert.equal(resolveServerUri({ server: 'http://host:80/wsman' }).port, 80)
  assert.equal(resolveServerUri({ server: 'https://host' }).port, 5986)
  assert.deepEqual(resolveServerUri({ server: 'http://[::1]:8080/' }), {
    server: '[::1]',
    ssl: false,
    port: 8080,
    path: undefined,
  })
})

test('explicit options that agree are accepted, ones that conflict name both', () => {
  assert.equal(resolveServerUri({ server: 'https://h:5986/wsman', ssl: true, port: 5986 }).port, 5986)
  assert.equal(resolveServerUri({ server: 'https://h', path: '/other' }).path, '/other')
  assert.throws(
    () => resolveServerUri({ server: 'http://h:5985/wsman', ssl: true }),
    (e: unknown) =>
      e instanceof InvalidArgumentError && /ssl true/.test(e.message) && /http:\/\/h/.test(e.message),
  )
  assert.throws(() => resolveServerUri({ server: 'https://h:5986', port: 5985 }), /port 5985 conflicts/)
  assert.throws(() => resolveServerUri({ server: 'https://h/a', path: '/b' }), /path \/b conflicts/)
})

test('URIs with another scheme, credentials, a query or garbage are refused', () => {
  assert.throws(() => resolveServerUri({ server: 'ftp://h' }), InvalidArgumentError)
  assert.throws(() => resolveServerUri({ server: 'https://u:p@h' }), /credentials/)
  assert.throws(() => resolveServerUri({ server: 'https://h/wsman?x=1' }), /query/)
  assert.throws(() => resolveServerUri({ server: 'https://' }), /not a valid URI/)
})

test('WSManConnection addresses the URI it was given', () => {
  const conn = new WSManConnection({
    server: 'http://127.0.0.1:8123/custom',
    auth: 'basic',
    username: 'u',
    password: 'p',
    allowUnencryptedBasic: true,
  })
  assert.equal(conn.http.url, 'http://127.0.0.1:8123/custom')
  assert.throws(
    () =>
      new WSManConnection({
        server: 'https://h:5986',
        port: 5985,
        auth: 'basic',
        username: 'u',
        password: 'p',
      }),
    InvalidArgumentError,
  )
})
