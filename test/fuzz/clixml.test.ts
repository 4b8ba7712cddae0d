/** Property tests: escaping, CLIXML round trips, and malformed input only ever raising ClixmlError. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { params } from './harness.ts'
import {
  decodeClixmlString,
  deserialize,
  encodeClixmlString,
  serialize,
  PSObject,
  PSDateTime,
  PSTimeSpan,
  PSChar,
  PSGuid,
  PSUInt64,
} from '../../src/clixml/index.ts'
import { ClixmlError } from '../../src/errors.ts'
import { canonicalClixml } from '../helpers/clixml-tree.ts'

const anyString = fc.string({ unit: 'binary', maxLength: 60 })
const trickyString = fc.oneof(
  anyString,
  fc
    .array(
      fc.constantFrom(
        '_',
        'x',
        'X',
        '0',
        '0',
        'A',
        'f',
        '\n',
        '\ud800',
        '\udc00',
        '😀',
        '&',
        '<',
        ']]>',
        '\u0085',
      ),
      { maxLength: 24 },
    )
    .map((a) => a.join('')),
)

test('escape/unescape is the identity on every string, including lone surrogates and _xHHHH_ look-alikes', () => {
  fc.assert(
    fc.property(trickyString, (s) => {
      const enc = encodeClixmlString(s)
      // eslint-disable-next-line no-control-regex -- asserting that no raw control character is left
      assert.ok(!/[\u0000-\u001f\ud800-\udfff]/.test(enc), 'no raw control or surrogate left')
      assert.equal(decodeClixmlString(enc), s)
      assert.equal(deserialize(serialize(s)), s)
    }),
    params(2000),
  )
})

const leaf = fc.oneof(
  trickyString,
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: 0n, max: 3155378975999999999n }).map((t) => new PSDateTime(t, 'utc')),
  fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map((t) => new PSTimeSpan(t)),
  fc.integer({ min: 0, max: 0xffff }).map((c) => new PSChar(c)),
  fc.uuid().map((g) => new PSGuid(g)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => new PSUInt64(v)),
  fc.uint8Array({ maxLength: 20 }),
)

const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('map'), tie('obj')),
  list: fc.array(tie('v'), { maxLength: 4 }),
  map: fc.array(fc.tuple(fc.string({ maxLength: 8 }), tie('v')), { maxLength: 4 }).map((es) => new Map(es)),
  obj: fc
    .tuple(
      fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), tie('v')), { maxLength: 4 }),
      fc.option(trickyString),
    )
    .map(
      ([props, ts]) =>
        new PSObject({
          typeNames: ['Fuzz.Type', 'System.Object'],
          toStringValue: ts ?? undefined,
          extended: props,
        }),
    ),
})).v

test('serialize → deserialize → serialize is stable for generated object graphs', () => {
  fc.assert(
    fc.property(value, (v) => {
      const xml = serialize(v)
      const back = deserialize(xml)
      assert.equal(canonicalClixml(serialize(back)), canonicalClixml(xml))
    }),
    params(500),
  )
})

const SAMPLE = serialize(
  new PSObject({
    typeNames: ['A.B', 'System.Object'],
    toStringValue: 'ts',
    extended: [
      ['list', [1, 'two', new Map([['k', 3n]])]],
      ['date', new PSDateTime(1n, 'utc')],
      ['s', 'x_x0041_y'],
    ],
    adapted: [['flag', true]],
  }),
)

test('random mutations of valid CLIXML only ever throw ClixmlError', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(SAMPLE.length), fc.nat(8), fc.string({ unit: 'binary', maxLength: 6 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (edits) => {
        let xml = SAMPLE
        for (const [at, del, ins] of edits) xml = xml.slice(0, at) + ins + xml.slice(at + del)
        try {
          deserialize(xml)
        } catch (e) {
          assert.ok(e instanceof ClixmlError, `unexpected ${String(e)} for ${JSON.stringify(xml)}`)
        }
      },
    ),
    params(3000),
  )
})
