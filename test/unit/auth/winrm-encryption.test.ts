/**
 * WinRM message-encryption framing (MS-WSMV 2.2.9.1, notes/auth.md §1.2): byte-exact output against
 * pypsrp's own unit-test vectors and the lab peer's Python framing, tolerant parsing of real-world
 * variants, strict length checks, and fuzzing for "only PsrpError, never a crash".
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  CREDSSP_ENCRYPTED,
  decryptWinRMBody,
  encryptWinRMBody,
  KERBEROS_ENCRYPTED,
  SPNEGO_ENCRYPTED,
  type WinRMEncryptionProtocol,
  type WinRMSealedMessage,
} from '../../../src/auth/winrm-encryption.ts'
import type { SealedMessage } from '../../../src/auth/security-context.ts'
import { CryptoError, ProtocolError, PsrpError } from '../../../src/errors.ts'

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')
const cat = (...parts: Array<string | Uint8Array>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? bytes(p) : p)))
const ENC = (protocol: string, multi = false): string =>
  `multipart/${multi ? 'x-multi-encrypted' : 'encrypted'};protocol="${protocol}";boundary="Encrypted Boundary"`

/** pypsrp's `MockAuthSPNEGO`: header `"header "`, data = plaintext ‖ `-encrypted`. */
const mockSpnegoSeal = (p: Uint8Array): SealedMessage => ({
  header: bytes('header '),
  data: cat(p, '-encrypted'),
})
const mockUnseal = (m: SealedMessage): Uint8Array => m.data.subarray(0, m.data.length - 10)
/** pypsrp's `MockAuthCREDSSP` (one "TLS record" = plaintext ‖ `-encrypted`, trailer 16 bytes). */
const mockCredsspSeal = (p: Uint8Array): SealedMessage => {
  const record = cat(p, '-encrypted')
  return { header: record.subarray(0, 16), data: record.subarray(16) }
}
const mockCredsspUnseal = (m: SealedMessage): Uint8Array => {
  const record = cat(m.header, m.data)
  return record.subarray(0, record.length - 10)
}

/** pypsrp `tests/test_encryption.py` expected bodies, rebuilt from the same literal pieces. */
const pypsrpSmall = (protocol: string, hlen: string, payload: string): Buffer =>
  cat(
    `--Encrypted Boundary\r\n\tContent-Type: application/${protocol}\r\n\tOriginalContent: `,
    'type=application/soap+xml;charset=UTF-8;Length=9\r\n',
    '--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n',
    hlen,
    payload,
    '--Encrypted Boundary--\r\n',
  )

describe('encryptWinRMBody: byte-exact framing', () => {
  test('pypsrp test_wrap_small_spnego / _kerberos / _credsp', () => {
    const spnego = encryptWinRMBody(bytes('plaintext'), mockSpnegoSeal, SPNEGO_ENCRYPTED)
    assert.deepEqual(
      Buffer.from(spnego.body),
      pypsrpSmall('HTTP-SPNEGO-session-encrypted', '\x07\x00\x00\x00', 'header plaintext-encrypted'),
    )
    assert.equal(spnego.contentType, ENC(SPNEGO_ENCRYPTED))
    const krb = encryptWinRMBody(bytes('plaintext'), mockSpnegoSeal, KERBEROS_ENCRYPTED)
    assert.deepEqual(
      Buffer.from(krb.body),
      pypsrpSmall('HTTP-Kerberos-session-encrypted', '\x07\x00\x00\x00', 'header plaintext-encrypted'),
    )
    assert.equal(krb.contentType, ENC(KERBEROS_ENCRYPTED))
    const credssp = encryptWinRMBody(bytes('plaintext'), mockCredsspSeal, CREDSSP_ENCRYPTED)
    assert.deepEqual(
      Buffer.from(credssp.body),
      pypsrpSmall('HTTP-CredSSP-session-encrypted', '\x10\x00\x00\x00', 'plaintext-encrypted'),
    )
    assert.equal(credssp.contentType, ENC(CREDSSP_ENCRYPTED))
  })

  test('pypsrp test_wrap_large_spnego: 20000 bytes stay one part for GSS protocols', () => {
    const plaintext = Buffer.alloc(20000, 'a')
    const expected = cat(
      '--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: ',
      'type=application/soap+xml;charset=UTF-8;Length=20000\r\n--Encrypted Boundary\r\n\tContent-Type: application',
      '/octet-stream\r\n\x07\x00\x00\x00header ',
      plaintext,
      '-encrypted--Encrypted Boundary--\r\n',
    )
    const out = encryptWinRMBody(plaintext, mockSpnegoSeal, SPNEGO_ENCRYPTED)
    assert.deepEqual(Buffer.from(out.body), expected)
    assert.equal(out.contentType, ENC(SPNEGO_ENCRYPTED))
  })

  test('pypsrp test_wrap_large_credsp: 16 KiB parts under multipart/x-multi-encrypted', () => {
    const plaintext = Buffer.alloc(20000, 'a')
    const expected = cat(
      '--Encrypted Boundary\r\n\tContent-Type: application/HTTP-CredSSP-session-encrypted\r\n\tOriginalContent: ',
      'type=application/soap+xml;charset=UTF-8;Length=16384\r\n--Encrypted Boundary\r\n\tContent-Type: application',
      '/octet-stream\r\n\x10\x00\x00\x00',
      Buffer.alloc(16384, 'a'),
      '-encrypted--Encrypted Boundary\r\n\tContent-Type: application/HTTP-CredSSP-session-encrypted\r\n',
      '\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=3616\r\n--Encrypted Boundary\r\n',
      '\tContent-Type: application/octet-stream\r\n\x10\x00\x00\x00',
      Buffer.alloc(3616, 'a'),
      '-encrypted--Encrypted Boundary--\r\n',
    )
    const out = encryptWinRMBody(plaintext, mockCredsspSeal, CREDSSP_ENCRYPTED)
    assert.deepEqual(Buffer.from(out.body), expected)
    assert.equal(out.contentType, ENC(CREDSSP_ENCRYPTED, true))
  })

  /**
   * Golden outputs of the lab peer's `build_encrypted` (shared/auth-lab/peer/winrm_peer.py, the
   * framing that interoperated with pywinrm/pyspnego clients), run by Python over this sealer:
   * header = sha256(uint32le(seq) ‖ chunk)[:n], data = chunk XOR 0x5a.
   */
  const labSealer = (n: number): ((p: Uint8Array) => SealedMessage) => {
    let seq = 0
    return (p) => {
      const s = Buffer.alloc(4)
      s.writeUInt32LE(seq++)
      const header = createHash('sha256').update(s).update(p).digest().subarray(0, n)
      return { header, data: Buffer.from(p.map((b) => b ^ 0x5a)) }
    }
  }
  const soap = bytes('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>')

  test('lab peer golden: SPNEGO, 16-byte header', () => {
    const golden =
      '2d2d456e6372797074656420426f756e646172790d0a09436f6e74656e742d547970653a206170706c69636174696f6e2f485454502d53504e45474f2d73657373696f6e2d656e637279707465640d0a094f726967696e616c436f6e74656e743a20747970653d6170706c69636174696f6e2f736f61702b786d6c3b636861727365743d5554462d383b4c656e6774683d38340d0a2d2d456e6372797074656420426f756e646172790d0a09436f6e74656e742d547970653a206170706c69636174696f6e2f6f637465742d73747265616d0d0a10000000715831259d265a1b655f902d53a88d646629601f342c3f36352a3f7a223736342960296778322e2e2a6075752d2d2d742d697435283d75686a6a69756a6f7529353b2a773f342c3f36352a3f786466296018353e237564667529601f342c3f36352a3f642d2d456e6372797074656420426f756e646172792d2d0d0a'
    const out = encryptWinRMBody(soap, labSealer(16), SPNEGO_ENCRYPTED)
    assert.equal(Buffer.from(out.body).toString('hex'), golden)
  })

  test('lab peer golden: Kerberos, 32-byte header', () => {
    const golden =
      '2d2d456e6372797074656420426f756e646172790d0a09436f6e74656e742d547970653a206170706c69636174696f6e2f485454502d4b65726265726f732d73657373696f6e2d656e637279707465640d0a094f726967696e616c436f6e74656e743a20747970653d6170706c69636174696f6e2f736f61702b786d6c3b636861727365743d5554462d383b4c656e6774683d38340d0a2d2d456e6372797074656420426f756e646172790d0a09436f6e74656e742d547970653a206170706c69636174696f6e2f6f637465742d73747265616d0d0a20000000715831259d265a1b655f902d53a88d64a68457f973d17f4bb5d1048d5fce06dd6629601f342c3f36352a3f7a223736342960296778322e2e2a6075752d2d2d742d697435283d75686a6a69756a6f7529353b2a773f342c3f36352a3f786466296018353e237564667529601f342c3f36352a3f642d2d456e6372797074656420426f756e646172792d2d0d0a'
    const out = encryptWinRMBody(soap, labSealer(60), KERBEROS_ENCRYPTED)
    assert.equal(Buffer.from(out.body).toString('hex'), golden)
  })

  test('lab peer golden: CredSSP 40000 bytes (3 parts) and exactly 16384 bytes (1 part)', () => {
    const big = Buffer.from(Array.from({ length: 40000 }, (_, i) => (i * 7 + 3) % 251))
    const multi = encryptWinRMBody(big, labSealer(17), CREDSSP_ENCRYPTED)
    assert.equal(multi.body.length, 40734)
    assert.equal(
      createHash('sha256').update(multi.body).digest('hex'),
      'ee12750a0edd11ad61d082432a0c339b1643531c5f1bf0ba181dbb881dc672ff',
    )
    assert.equal(multi.contentType, ENC(CREDSSP_ENCRYPTED, true))
    const one = encryptWinRMBody(big.subarray(0, 16384), labSealer(17), CREDSSP_ENCRYPTED)
    assert.equal(one.body.length, 16645)
    assert.equal(
      createHash('sha256').update(one.body).digest('hex'),
      '1ed1cba39888a84cb4d679f7447168e857d6b5ce5207533e0cca9464230e273a',
    )
    assert.equal(one.contentType, ENC(CREDSSP_ENCRYPTED))
  })

  test('the sealer is called once per chunk, in order; chunkSize applies to any protocol', () => {
    const seen: string[] = []
    const out = encryptWinRMBody(
      bytes('abcdefghij'),
      (p) => {
        seen.push(Buffer.from(p).toString('latin1'))
        return { header: new Uint8Array(0), data: p }
      },
      SPNEGO_ENCRYPTED,
      { chunkSize: 4 },
    )
    assert.deepEqual(seen, ['abcd', 'efgh', 'ij'])
    assert.equal(out.contentType, ENC(SPNEGO_ENCRYPTED, true))
    const text = Buffer.from(out.body).toString('latin1')
    assert.deepEqual(
      [...text.matchAll(/Length=(\d+)/g)].map((m) => m[1]),
      ['4', '4', '2'],
    )
    assert.equal(text.split('--Encrypted Boundary--').length, 2)
    assert.ok(text.endsWith('ij--Encrypted Boundary--\r\n'))
  })

  test('an empty message is one part with Length=0', () => {
    const out = encryptWinRMBody(new Uint8Array(0), mockSpnegoSeal, SPNEGO_ENCRYPTED)
    assert.match(Buffer.from(out.body).toString('latin1'), /;Length=0\r\n/)
    const back = decryptWinRMBody(out.body, out.contentType, mockUnseal, SPNEGO_ENCRYPTED)
    assert.equal(back.plaintext.length, 0)
  })

  test('paddingLength (Kerberos RC4) is added to Length; originalContentType is used', () => {
    const seal = (p: Uint8Array): WinRMSealedMessage => ({
      header: bytes('h'),
      data: cat(p, '\x01'),
      paddingLength: 1,
    })
    const out = encryptWinRMBody(bytes('abc'), seal, KERBEROS_ENCRYPTED, {
      originalContentType: 'application/soap+xml;charset=UTF-16',
    })
    assert.match(
      Buffer.from(out.body).toString('latin1'),
      /\tOriginalContent: type=application\/soap\+xml;charset=UTF-16;Length=4\r\n/,
    )
  })

  test('bad arguments are local ProtocolErrors', () => {
    const bad = [
      () => encryptWinRMBody(bytes('x'), mockSpnegoSeal, 'text/plain' as WinRMEncryptionProtocol),
      () => encryptWinRMBody(bytes('x'), mockSpnegoSeal, SPNEGO_ENCRYPTED, { chunkSize: 0 }),
      () => encryptWinRMBody(bytes('x'), mockSpnegoSeal, SPNEGO_ENCRYPTED, { chunkSize: 1.5 }),
      () => encryptWinRMBody(bytes('x'), () => ({}) as SealedMessage, SPNEGO_ENCRYPTED),
      () =>
        encryptWinRMBody(bytes('x'), mockSpnegoSeal, SPNEGO_ENCRYPTED, { originalContentType: 'a\r\nb: c' }),
      () =>
        encryptWinRMBody(bytes('x'), (p) => ({ header: p, data: p, paddingLength: -1 }), SPNEGO_ENCRYPTED),
    ]
    for (const f of bad) {
      assert.throws(f, (e: unknown) => e instanceof ProtocolError && e.side === 'local')
    }
  })
})

describe('decryptWinRMBody: tolerant parsing', () => {
  test('pypsrp test_unwrap_small_spnego', () => {
    const body = pypsrpSmall(
      'HTTP-SPNEGO-session-encrypted',
      '\x07\x00\x00\x00',
      'header plaintext-encrypted',
    )
    const out = decryptWinRMBody(body, ENC(SPNEGO_ENCRYPTED), mockUnseal, SPNEGO_ENCRYPTED)
    assert.equal(Buffer.from(out.plaintext).toString(), 'plaintext')
    assert.equal(out.contentType, 'application/soap+xml;charset=UTF-8')
  })

  test('pypsrp test_unwrap_small_spnego_without_end_hyphens (final boundary without --)', () => {
    const body = cat(
      '--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: ',
      'type=application/soap+xml;charset=UTF-8;Length=9\r\n',
      '--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x07\x00\x00\x00header plaintext-',
      'encrypted--Encrypted Boundary\r\n',
    )
    const out = decryptWinRMBody(body, ENC(SPNEGO_ENCRYPTED), mockUnseal, SPNEGO_ENCRYPTED)
    assert.equal(Buffer.from(out.plaintext).toString(), 'plaintext')
  })

  test('pypsrp test_unwrap_small_kerberos: Exchange-style "-- Encrypted Boundary"', () => {
    const body = cat(
      '-- Encrypted Boundary\r\n\tContent-Type: application/HTTP-Kerberos-session-encrypted\r\n\tOriginalContent: ',
      'type=application/soap+xml;charset=UTF-8;Length=9\r\n',
      '-- Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x07\x00\x00\x00header plaintext-',
      'encrypted-- Encrypted Boundary--\r\n',
    )
    const out = decryptWinRMBody(body, ENC(KERBEROS_ENCRYPTED), mockUnseal, KERBEROS_ENCRYPTED)
    assert.equal(Buffer.from(out.plaintext).toString(), 'plaintext')
  })

  test('pypsrp test_unwrap_small_credsp: boundary taken from the content type', () => {
    const body = cat(
      '--Encrypted Boundary2\r\n\tContent-Type: application/HTTP-CredSSP-session-encrypted\r\n\tOriginalContent: ',
      'type=application/soap+xml;charset=UTF-8;Length=9\r\n',
      '--Encrypted Boundary2\r\n\tContent-Type: application/octet-stream\r\n\x10\x00\x00\x00plaintext-encrypted',
      '--Encrypted Boundary2--\r\n',
    )
    const ct = `multipart/encrypted;protocol="${CREDSSP_ENCRYPTED}";boundary="Encrypted Boundary2"`
    const out = decryptWinRMBody(body, ct, mockCredsspUnseal, CREDSSP_ENCRYPTED)
    assert.equal(Buffer.from(out.plaintext).toString(), 'plaintext')
  })

  test('pypsrp test_unwrap_large_credsp: x-multi-encrypted parts are concatenated', () => {
    const body = encryptWinRMBody(Buffer.alloc(20000, 'a'), mockCredsspSeal, CREDSSP_ENCRYPTED)
    const out = decryptWinRMBody(body.body, body.contentType, mockCredsspUnseal, CREDSSP_ENCRYPTED)
    assert.deepEqual(Buffer.from(out.plaintext), Buffer.alloc(20000, 'a'))
  })

  test('pypsrp test_unwrap_length_mismatch → ProtocolError', () => {
    const body = pypsrpSmall('HTTP-SPNEGO-session-encrypted', '\x07\x00\x00\x00', 'header plain-encrypted')
    assert.throws(
      () => decryptWinRMBody(body, ENC(SPNEGO_ENCRYPTED), mockUnseal, SPNEGO_ENCRYPTED),
      (e: unknown) => e instanceof ProtocolError && /unsealed to 5 bytes .*Length=9/.test(e.message),
    )
  })

  test('no CRLF after the closing boundary, header names in any case and order, quoting variants', () => {
    const body = cat(
      '\r\n--Encrypted Boundary\r\n  ORIGINALCONTENT:type=application/soap+xml; charset=utf-8; length=3\r\n',
      'content-type:application/http-spnego-session-encrypted\r\n',
      '--Encrypted Boundary\r\nCONTENT-TYPE: Application/Octet-Stream\r\n\x01\x00\x00\x00Habc',
      '--Encrypted Boundary--',
    )
    for (const ct of [
      'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"',
      "Multipart/Encrypted; Boundary='Encrypted Boundary'; Protocol='application/HTTP-SPNEGO-session-encrypted'",
      'multipart/encrypted',
    ]) {
      const out = decryptWinRMBody(body, ct, (m) => m.data, SPNEGO_ENCRYPTED)
      assert.equal(Buffer.from(out.plaintext).toString(), 'abc')
      assert.equal(out.contentType, 'application/soap+xml;charset=utf-8')
    }
  })

  test('a missing octet-stream line is tolerated (pypsrp only strips it when present)', () => {
    const body = cat(
      '--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n',
      '\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=2\r\n',
      '--Encrypted Boundary\r\n\x00\x00\x00\x00ok--Encrypted Boundary--\r\n',
    )
    const out = decryptWinRMBody(body, ENC(SPNEGO_ENCRYPTED), (m) => m.data, SPNEGO_ENCRYPTED)
    assert.equal(Buffer.from(out.plaintext).toString(), 'ok')
  })

  test('several part pairs under plain multipart/encrypted; SPNEGO and Kerberos are interchangeable', () => {
    const multi = encryptWinRMBody(bytes('0123456789'), mockSpnegoSeal, KERBEROS_ENCRYPTED, { chunkSize: 3 })
    const out = decryptWinRMBody(multi.body, ENC(SPNEGO_ENCRYPTED), mockUnseal, SPNEGO_ENCRYPTED)
    assert.equal(Buffer.from(out.plaintext).toString(), '0123456789')
  })

  test('ciphertext containing the boundary text is not cut short', () => {
    const tricky = bytes(
      'A--Encrypted Boundary--\r\nB--Encrypted Boundary\r\nC-- Encrypted Boundary\r\n\r\nD--Encrypted Boundary--X',
    )
    const identity = (p: Uint8Array): SealedMessage => ({ header: bytes('hh'), data: p })
    for (const chunkSize of [undefined, 7]) {
      const enc = encryptWinRMBody(tricky, identity, SPNEGO_ENCRYPTED, { chunkSize })
      const out = decryptWinRMBody(enc.body, enc.contentType, (m) => m.data, SPNEGO_ENCRYPTED)
      assert.deepEqual(Buffer.from(out.plaintext), tricky)
    }
  })

  test('the unsealer is called once per part, in order, with header and data apart', () => {
    const enc = encryptWinRMBody(bytes('abcdefg'), mockSpnegoSeal, SPNEGO_ENCRYPTED, { chunkSize: 3 })
    const seen: Array<[string, string]> = []
    decryptWinRMBody(
      enc.body,
      enc.contentType,
      (m) => {
        seen.push([Buffer.from(m.header).toString(), Buffer.from(m.data).toString()])
        return mockUnseal(m)
      },
      SPNEGO_ENCRYPTED,
    )
    assert.deepEqual(seen, [
      ['header ', 'abc-encrypted'],
      ['header ', 'def-encrypted'],
      ['header ', 'g-encrypted'],
    ])
  })
})

describe('decryptWinRMBody: strict checks', () => {
  const good = encryptWinRMBody(bytes('plaintext'), mockSpnegoSeal, SPNEGO_ENCRYPTED)
  const text = Buffer.from(good.body).toString('latin1')
  const decrypt = (body: string | Uint8Array, ct = good.contentType, unseal = mockUnseal): unknown =>
    decryptWinRMBody(typeof body === 'string' ? bytes(body) : body, ct, unseal, SPNEGO_ENCRYPTED)
  const rejects = (name: string, f: () => unknown, re?: RegExp): void => {
    assert.throws(
      f,
      (e: unknown) =>
        e instanceof ProtocolError && e.side === 'remote' && (re === undefined || re.test(e.message)),
      name,
    )
  }

  test('malformed bodies are ProtocolErrors', () => {
    rejects(
      'not multipart',
      () => decrypt(text, 'application/soap+xml;charset=UTF-8'),
      /multipart\/encrypted/,
    )
    rejects('empty body', () => decrypt(''), /does not start/)
    rejects('preamble', () => decrypt(`junk${text}`), /does not start/)
    rejects('closing first', () => decrypt('--Encrypted Boundary--\r\n'), /does not start/)
    rejects(
      'only headers',
      () => decrypt(text.slice(0, text.indexOf('--Encrypted Boundary', 5))),
      /no octet-stream/,
    )
    rejects('truncated length', () => decrypt(text.slice(0, text.indexOf('\x07') + 2)), /truncated/)
    rejects(
      'no closing boundary',
      () => decrypt(text.slice(0, text.lastIndexOf('--Encrypted'))),
      /not followed/,
    )
    rejects(
      'header length beyond the body',
      () => decrypt(text.replace('\x07\x00\x00\x00', '\xff\xff\x00\x00')),
      /declares a 65535-byte header/,
    )
    rejects('header length eats the boundary', () =>
      decrypt(text.replace('\x07\x00\x00\x00', '\x28\x00\x00\x00')),
    )
    rejects('no Length', () => decrypt(text.replace(';Length=9', '')), /no Length/)
    rejects('bad Length', () => decrypt(text.replace('Length=9', 'Length=9x')), /invalid Length/)
    rejects('two Lengths', () => decrypt(text.replace('Length=9', 'Length=9;Length=9')), /invalid Length/)
    rejects(
      'huge Length',
      () => decrypt(text.replace('Length=9', 'Length=99999999999999999999')),
      /invalid Length/,
    )
    rejects(
      'no OriginalContent',
      () => decrypt(text.replace('OriginalContent', 'Original')),
      /no OriginalContent/,
    )
    rejects(
      'no Content-Type',
      () => decrypt(text.replace('\tContent-Type: application/HTTP', '\tX: application/HTTP')),
      /no Content-Type/,
    )
    rejects(
      'odd protocol',
      () => decrypt(text.replace('HTTP-SPNEGO-session-encrypted', 'foo')),
      /content type/,
    )
    rejects('CredSSP part for a GSS session', () => decrypt(text.replace('SPNEGO', 'CredSSP')))
    rejects(
      'CredSSP outer protocol for a GSS session',
      () => decrypt(text, ENC(CREDSSP_ENCRYPTED)),
      /protocol/,
    )
    rejects(
      'header line without colon',
      () => decrypt(text.replace('\tOriginalContent:', '\tOriginalContent')),
      /malformed header/,
    )
    rejects(
      'oversized header part',
      () => decrypt(text.replace('\tOriginalContent', `\tX: ${'x'.repeat(5000)}\r\n\tOriginalContent`)),
      /oversized/,
    )
    rejects('trailing garbage', () => decrypt(`${text}garbage`), /not followed/)
    rejects('bad boundary param', () => decrypt(text, 'multipart/encrypted;boundary=""'), /boundary/)
  })

  test('unsealer failures: PsrpErrors pass through, anything else becomes CryptoError', () => {
    const crypto = new CryptoError('bad MAC')
    assert.throws(
      () =>
        decrypt(text, good.contentType, () => {
          throw crypto
        }),
      (e: unknown) => e === crypto,
    )
    assert.throws(
      () =>
        decrypt(text, good.contentType, () => {
          throw new TypeError('boom')
        }),
      (e: unknown) => e instanceof CryptoError && e.cause instanceof TypeError,
    )
    assert.throws(() => decrypt(text, good.contentType, () => 'nope' as unknown as Uint8Array), CryptoError)
  })
})

describe('fuzz: only PsrpError, never a crash', () => {
  const protocols = fc.constantFrom(SPNEGO_ENCRYPTED, KERBEROS_ENCRYPTED, CREDSSP_ENCRYPTED)
  const sealerFor =
    (hlen: number) =>
    (p: Uint8Array): SealedMessage => ({
      header: Buffer.alloc(hlen, 0x48),
      data: Buffer.from(p.map((b) => b ^ 0xa5)),
    })
  const unsealer = (m: SealedMessage): Uint8Array => Buffer.from(m.data.map((b) => b ^ 0xa5))
  const onlyPsrp = (f: () => unknown): void => {
    try {
      f()
    } catch (e) {
      if (!(e instanceof PsrpError)) throw e
    }
  }

  test('round trip for any plaintext, header size, protocol and chunk size', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.nat({ max: 80 }),
        protocols,
        fc.option(fc.integer({ min: 1, max: 1200 }), { nil: undefined }),
        (plain, hlen, protocol, chunkSize) => {
          const enc = encryptWinRMBody(plain, sealerFor(hlen), protocol, { chunkSize })
          const out = decryptWinRMBody(enc.body, enc.contentType, unsealer, protocol)
          assert.deepEqual(Buffer.from(out.plaintext), Buffer.from(plain))
        },
      ),
      { numRuns: 300 },
    )
  })

  test('arbitrary bytes and content types', () => {
    const ct = fc.oneof(
      fc.constant(ENC(SPNEGO_ENCRYPTED)),
      fc.constant(ENC(CREDSSP_ENCRYPTED, true)),
      fc.string({ maxLength: 120 }),
      fc.string({ maxLength: 40 }).map((b) => `multipart/encrypted;boundary="${b}"`),
    )
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc
        .array(
          fc.constantFrom(
            '--Encrypted Boundary\r\n',
            '-- Encrypted Boundary--',
            '\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n',
            '\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=3\r\n',
            '\tContent-Type: application/octet-stream\r\n',
            '\x03\x00\x00\x00',
            '\xff\xff\xff\xff',
            'abc',
            '\r\n',
            ':',
          ),
          { maxLength: 14 },
        )
        .map((parts) => bytes(parts.join(''))),
    )
    fc.assert(
      fc.property(body, ct, protocols, (b, c, p) => {
        onlyPsrp(() => decryptWinRMBody(b, c, unsealer, p))
      }),
      { numRuns: 2000 },
    )
  })

  test('mutations of valid bodies (flips, cuts, insertions) decrypt or throw PsrpError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        protocols,
        fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
        fc.array(
          fc.tuple(
            fc.constantFrom('flip', 'cut', 'insert', 'delete'),
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (plain, protocol, chunkSize, mutations) => {
          const enc = encryptWinRMBody(plain, sealerFor(16), protocol, { chunkSize })
          let b = Buffer.from(enc.body)
          for (const [kind, at, value] of mutations) {
            const i = b.length === 0 ? 0 : at % b.length
            if (kind === 'flip') b[i] = value
            else if (kind === 'cut') b = b.subarray(0, i)
            else if (kind === 'insert')
              b = Buffer.concat([b.subarray(0, i), Buffer.from([value]), b.subarray(i)])
            else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)])
          }
          onlyPsrp(() => decryptWinRMBody(b, enc.contentType, unsealer, protocol))
        },
      ),
      { numRuns: 2000 },
    )
  })
})
