/**
 * The KDC transport's input handling: the `kdc` option (a string is one KDC; anything else is an
 * InvalidArgumentError naming the option, raised by the WSManConnection constructor) and the
 * reassembly of a length-prefixed reply that arrives in pieces.
 */
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { describe, test } from 'node:test'
import { InvalidArgumentError, ProtocolError } from '../../../src/errors.ts'
import { KdcReplyReader, MAX_KDC_REPLY, kdcOption, kdcSender } from '../../../src/transport/kdc.ts'
import { WSManConnection } from '../../../src/transport/wsman-connection.ts'

describe('kdc option', () => {
  test('a string is one KDC; an array is a list', () => {
    assert.deepEqual(kdcOption('kdc.example.com'), [{ host: 'kdc.example.com', port: 88 }])
    assert.deepEqual(kdcOption(['a:1', '[::1]:2']), [
      { host: 'a', port: 1 },
      { host: '::1', port: 2 },
    ])
    assert.equal(kdcOption(undefined), undefined)
  })

  test('anything else is an InvalidArgumentError naming the option', () => {
    for (const bad of [42, null, {}, ['ok', 7], true]) {
      assert.throws(
        () => kdcOption(bad, 'kerberos.kdc'),
        (e: unknown) => e instanceof InvalidArgumentError && /^kerberos\.kdc must be/.test(e.message),
        JSON.stringify(bad),
      )
    }
    assert.throws(
      () => kdcOption('bad host:99999', 'kerberos.kdc'),
      (e: unknown) =>
        e instanceof InvalidArgumentError && /^kerberos\.kdc: invalid KDC address/.test(e.message),
    )
  })

  test('WSManConnection checks kerberos.kdc in its constructor; a string is accepted', () => {
    const base = { server: 'win1', auth: 'kerberos', username: 'u@R', password: 'p' } as const
    assert.doesNotThrow(() => new WSManConnection({ ...base, kerberos: { kdc: 'kdc1:88' } }))
    assert.throws(
      () => new WSManConnection({ ...base, kerberos: { kdc: 88 as unknown as string } }),
      (e: unknown) => e instanceof InvalidArgumentError && /kerberos\.kdc/.test(e.message),
    )
  })

  test('kdcSender with a string kdc sends to that KDC (reply written one byte at a time)', async () => {
    const reply = Buffer.from('0123456789abcdef'.repeat(20))
    const server = createServer((socket: Socket) => {
      socket.once('data', async () => {
        const frame = Buffer.alloc(4 + reply.length)
        frame.writeUInt32BE(reply.length, 0)
        reply.copy(frame, 4)
        for (let i = 0; i < frame.length; i += 37) {
          socket.write(frame.subarray(i, i + 37))
          await new Promise((r) => setImmediate(r))
        }
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const port = (server.address() as AddressInfo).port
      const got = await kdcSender({ kdc: `127.0.0.1:${port}`, timeout: 3000 })('R', Uint8Array.of(1, 2))
      assert.deepEqual(Buffer.from(got), reply)
    } finally {
      await new Promise<void>((r) => server.close(() => r()))
    }
  })
})

describe('KdcReplyReader', () => {
  const frame = (body: Uint8Array): Buffer => {
    const f = Buffer.alloc(4 + body.length)
    f.writeUInt32BE(body.length, 0)
    f.set(body, 4)
    return f
  }

  test('any split of the frame gives the reply; bytes after it are ignored', () => {
    const body = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
    const wire = Buffer.concat([frame(body), Buffer.from('trailing')])
    for (const step of [1, 2, 3, 5, 64, wire.length]) {
      const r = new KdcReplyReader('k:88')
      let got: Uint8Array | undefined
      for (let i = 0; i < wire.length; i += step) got = r.push(wire.subarray(i, i + step)) ?? got
      assert.deepEqual(got, body, `step ${step}`)
    }
    assert.deepEqual(new KdcReplyReader('k:88').push(frame(new Uint8Array(0))), new Uint8Array(0))
  })

  test('a length beyond the limit is a ProtocolError as soon as the prefix is complete', () => {
    const r = new KdcReplyReader('k:88')
    const prefix = Buffer.alloc(4)
    prefix.writeUInt32BE(MAX_KDC_REPLY + 1, 0)
    assert.equal(r.push(prefix.subarray(0, 3)), undefined)
    assert.throws(
      () => r.push(prefix.subarray(3)),
      (e: unknown) => e instanceof ProtocolError && /k:88 sent a \d+-byte reply \(limit/.test(e.message),
    )
  })
})
