import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, ProtocolError } from '../../../src/errors.ts'
import {
  headerValue,
  headerValues,
  ResponseParser,
  serializeRequestHead,
} from '../../../src/transport/http/http1.ts'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

function parseAll(text: string, splits: number[] = []): ReturnType<ResponseParser['push']> {
  const p = new ResponseParser()
  let last = 0
  let res
  for (const at of [...splits, text.length]) {
    res = p.push(b(text.slice(last, at))) ?? res
    last = at
  }
  return res
}

describe('HTTP/1.1 response parser', () => {
  const fixed =
    'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 5\r\n' +
    'WWW-Authenticate: Negotiate\r\nwww-authenticate: Basic realm="x"\r\n\r\nhello'

  test('Content-Length body, lower-case names, repeated headers as arrays', () => {
    const res = parseAll(fixed)
    assert.ok(res)
    assert.equal(res.status, 200)
    assert.equal(res.statusText, 'OK')
    assert.equal(res.body.toString(), 'hello')
    assert.equal(res.headers['content-type'], 'application/soap+xml;charset=UTF-8')
    assert.deepEqual(res.headers['www-authenticate'], ['Negotiate', 'Basic realm="x"'])
    assert.deepEqual(headerValues(res.headers, 'WWW-Authenticate'), ['Negotiate', 'Basic realm="x"'])
    assert.equal(headerValue(res.headers, 'content-length'), '5')
    assert.equal(res.closeConnection, false)
  })

  test('every split point gives the same response', () => {
    for (let i = 0; i <= fixed.length; i++) {
      const res = parseAll(fixed, [i])
      assert.equal(res?.body.toString(), 'hello', `split at ${i}`)
    }
  })

  test('chunked body with extensions and trailers, at every split point', () => {
    const text =
      'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '4;ext=1\r\n<s:E\r\nA\r\nnvelope/>x\r\n0\r\nX-Trailer: y\r\n\r\n'
    for (let i = 0; i <= text.length; i++) {
      const res = parseAll(text, [i])
      assert.ok(res, `split at ${i}`)
      assert.equal(res.status, 500)
      assert.equal(res.body.toString(), '<s:Envelope/>x')
    }
  })

  test('property: any body, any chunking, any split of the byte stream parses to the same body', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (body, chunkSizes, cuts, chunked) => {
          let wire: Buffer
          if (chunked) {
            const parts: Buffer[] = [b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')]
            let at = 0
            for (let i = 0; at < body.length; i++) {
              const n = Math.min(chunkSizes[i % Math.max(1, chunkSizes.length)] ?? 7, body.length - at)
              parts.push(b(`${n.toString(16)}\r\n`), Buffer.from(body.subarray(at, at + n)), b('\r\n'))
              at += n
            }
            parts.push(b('0\r\n\r\n'))
            wire = Buffer.concat(parts)
          } else {
            wire = Buffer.concat([
              b(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`),
              Buffer.from(body),
            ])
          }
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y)
          const p = new ResponseParser()
          let last = 0
          let res
          for (const at of [...points, wire.length]) {
            res = p.push(wire.subarray(last, at)) ?? res
            last = at
          }
          assert.ok(res)
          assert.deepEqual(new Uint8Array(res.body), body)
          assert.equal(p.rest.length, 0)
        },
      ),
    )
  })

  test('a header named __proto__ does not change the prototype', () => {
    const res = parseAll('HTTP/1.1 200 OK\r\n__proto__: x\r\nContent-Length: 0\r\n\r\n')
    assert.equal(Object.getPrototypeOf(res?.headers), Object.prototype)
    assert.equal(res?.headers['__proto__'], 'x')
  })

  test('100 Continue is skipped; 204 has no body', () => {
    const res = parseAll('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n')
    assert.equal(res?.status, 204)
    assert.equal(res?.body.length, 0)
  })

  test('no length: read to EOF and close', () => {
    const p = new ResponseParser()
    assert.equal(p.push(b('HTTP/1.0 200 OK\r\n\r\nabc')), undefined)
    assert.equal(p.push(b('def')), undefined)
    const res = p.end()
    assert.equal(res?.body.toString(), 'abcdef')
    assert.equal(res?.closeConnection, true)
  })

  test('Connection: close and HTTP/1.0 keep-alive', () => {
    assert.equal(
      parseAll('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')?.closeConnection,
      true,
    )
    assert.equal(
      parseAll('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')?.closeConnection,
      false,
    )
  })

  test('EOF in the middle of a response is a ProtocolError; EOF before any byte is not', () => {
    const p = new ResponseParser()
    p.push(b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'))
    assert.throws(() => p.end(), ProtocolError)
    assert.equal(new ResponseParser().end(), undefined)
  })

  test('malformed input is a ProtocolError', () => {
    const bad = [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n',
      'HTTP/1.1 200 OK\r\n folded: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    ]
    for (const text of bad) assert.throws(() => parseAll(text), ProtocolError, JSON.stringify(text))
  })

  test('size limits', () => {
    const head = new ResponseParser({ maxHeaderSize: 64 })
    assert.throws(() => head.push(b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}`)), ProtocolError)
    const body = new ResponseParser({ maxBodySize: 4 })
    assert.throws(() => body.push(b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n')), ProtocolError)
    const chunked = new ResponseParser({ maxBodySize: 4 })
    assert.throws(
      () => chunked.push(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n')),
      ProtocolError,
    )
  })

  test('bytes after the response are kept in rest; CONNECT 200 has no body', () => {
    const p = new ResponseParser({ connect: true })
    const res = p.push(b('HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03'))
    assert.equal(res?.status, 200)
    assert.deepEqual([...p.rest], [0x16, 0x03])
  })
})

describe('HTTP/1.1 response parser: hostile read patterns', () => {
  /** Feeds `wire` to `p` in pieces of the given sizes (cycled); returns the response. */
  function feedPieces(p: ResponseParser, wire: Buffer, sizes: number[]): ReturnType<ResponseParser['push']> {
    let res
    for (let at = 0, i = 0; at < wire.length; i++) {
      const n = sizes[i % sizes.length] as number
      res = p.push(wire.subarray(at, at + n)) ?? res
      at += n
    }
    return res
  }

  test('many headers of one name keep every value, in order', () => {
    const n = 5000
    let head = 'HTTP/1.1 200 OK\r\n'
    for (let i = 0; i < n; i++) head += `X: ${i % 3 === 0 ? '' : String(i)}\r\n`
    const res = parseAll(`${head}Content-Length: 0\r\n\r\n`)
    const values = res?.headers['x']
    assert.ok(Array.isArray(values))
    assert.equal(values.length, n)
    assert.deepEqual(values.slice(0, 4), ['', '1', '2', ''])
    assert.equal(headerValues(res?.headers ?? {}, 'x').length, n)
  })

  test('one byte per read: interim 100 Continue, head, chunked body, trailers and bytes after it', () => {
    const wire = b(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nA: 1\r\nA: 2\r\n\r\n' +
        '3;x=y\r\nabc\r\n1\r\nd\r\n0\r\nT: 1\r\nU: 2\r\n\r\nNEXT',
    )
    const p = new ResponseParser()
    const res = feedPieces(p, wire, [1])
    assert.equal(res?.status, 200)
    assert.deepEqual(res?.headers['a'], ['1', '2'])
    assert.equal(res?.body.toString(), 'abcd')
    assert.equal(p.rest.toString(), 'NEXT')
    p.push(b('MORE'))
    assert.equal(p.rest.toString(), 'NEXTMORE')
  })

  test('the head limit holds exactly, in one read and one byte per read', () => {
    const head = (size: number): Buffer => {
      const start = 'HTTP/1.1 200 OK\r\nX: '
      return b(`${start}${'a'.repeat(size - start.length)}\r\n\r\n`) // the end marker starts at `size`
    }
    for (const sizes of [[1 << 20], [1], [3, 1, 7]]) {
      const at = feedPieces(new ResponseParser({ maxHeaderSize: 100, connect: true }), head(100), sizes)
      assert.equal(at?.status, 200, `${sizes.join(',')}: 100 bytes accepted`)
      assert.throws(
        () => feedPieces(new ResponseParser({ maxHeaderSize: 100, connect: true }), head(101), sizes),
        (e: unknown) => e instanceof ProtocolError && /exceeds 100 bytes/.test(e.message),
        `${sizes.join(',')}: 101 bytes refused`,
      )
    }
    // refused as soon as the limit is passed, without waiting for the end of the head
    const p = new ResponseParser({ maxHeaderSize: 100 })
    assert.throws(() => feedPieces(p, b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}`), [1]), ProtocolError)
    assert.ok(p.bytesReceived < 120)
  })

  test('a chunk-size line over 1024 bytes is refused, however it is split', () => {
    const wire = b(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(2000)}\r\nx\r\n0\r\n\r\n`,
    )
    for (const sizes of [[wire.length], [1], [5, 2]]) {
      assert.throws(
        () => feedPieces(new ResponseParser(), wire, sizes),
        (e: unknown) => e instanceof ProtocolError && /chunk-size line too long/.test(e.message),
      )
    }
    const ok = b(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(1020)}\r\nx\r\n0\r\n\r\n`,
    )
    assert.equal(feedPieces(new ResponseParser(), ok, [1])?.body.toString(), 'x')
  })

  test('a large body in pieces of mixed sizes keeps every byte in order', () => {
    const body = Buffer.alloc(300_000)
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff
    const plain = Buffer.concat([b(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body])
    const chunked = Buffer.concat([
      b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      b('10000\r\n'),
      body.subarray(0, 0x10000),
      b(`\r\n${(body.length - 0x10000).toString(16)}\r\n`),
      body.subarray(0x10000),
      b('\r\n0\r\n\r\n'),
    ])
    const eof = Buffer.concat([b('HTTP/1.0 200 OK\r\n\r\n'), body])
    for (const sizes of [[1, 9000, 3, 70_000, 17], [8191, 8192, 1], [65_536]]) {
      assert.ok(feedPieces(new ResponseParser(), plain, sizes)?.body.equals(body), `plain ${sizes.join(',')}`)
      assert.ok(
        feedPieces(new ResponseParser(), chunked, sizes)?.body.equals(body),
        `chunked ${sizes.join(',')}`,
      )
      const p = new ResponseParser()
      assert.equal(feedPieces(p, eof, sizes), undefined)
      assert.ok(p.end()?.body.equals(body), `eof ${sizes.join(',')}`)
    }
  })

  test('the body is a copy: reusing the read buffer does not change it', () => {
    const p = new ResponseParser()
    const read = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc', 'latin1')
    p.push(read)
    read.fill(0x21)
    const res = p.push(b('def'))
    assert.equal(res?.body.toString(), 'abcdef')
  })
})

describe('HTTP/1.1 request head', () => {
  test('serialises request line and headers', () => {
    const head = serializeRequestHead({
      method: 'POST',
      target: '/wsman',
      headers: [
        ['Host', 'h:5985'],
        ['Content-Length', '0'],
      ],
    })
    assert.equal(head.toString('latin1'), 'POST /wsman HTTP/1.1\r\nHost: h:5985\r\nContent-Length: 0\r\n\r\n')
  })

  test('CR/LF in header values or bad names are refused without echoing the value', () => {
    assert.throws(
      () =>
        serializeRequestHead({
          method: 'POST',
          target: '/',
          headers: [['Authorization', 'Basic x\r\nEvil: 1']],
        }),
      (e: unknown) => e instanceof InvalidArgumentError && !e.message.includes('Basic x'),
    )
    assert.throws(
      () => serializeRequestHead({ method: 'POST', target: '/', headers: [['Bad Name', 'v']] }),
      InvalidArgumentError,
    )
    assert.throws(
      () => serializeRequestHead({ method: 'POST', target: '/a b', headers: [] }),
      InvalidArgumentError,
    )
  })
})
