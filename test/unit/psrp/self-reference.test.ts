/**
 * Message bodies whose properties refer to themselves (hostile or broken peers): every one of the 31
 * message types, with each named property in turn replaced by a reference to the body, by an object
 * whose base value is itself and by an enum whose value is itself, decodes or fails with a typed error
 * (ProtocolError naming the property, or ClixmlError), and the decoded fields (records included, through
 * every typed getter) turn into text and numbers without a stack overflow.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ALL_MESSAGE_TYPES,
  decodeMessageBody,
  encodeMessageBody,
  MessageType,
} from '../../../src/psrp/index.ts'
import { PSObject } from '../../../src/clixml/index.ts'
import { parseXml, escapeXmlAttr, escapeXmlText, type XmlElement } from '../../../src/internal/xml.ts'
import { ClixmlError, ProtocolError } from '../../../src/errors.ts'
import { sampleMessages } from './samples.ts'

const parse = (xml: string): XmlElement => parseXml(xml, { error: (m) => new Error(m) })

/** The self-referencing replacements of a property named `n`. */
function selfReferences(n: string, rootRefId: string): [string, string][] {
  const name = escapeXmlAttr(n)
  return [
    ['the body itself', `<Ref N="${name}" RefId="${rootRefId}" />`],
    ['an object whose base value is itself', `<Obj N="${name}" RefId="self1"><Ref RefId="self1" /></Obj>`],
    [
      'an enum whose value is itself',
      `<Obj N="${name}" RefId="self2"><TN RefId="selfTN"><T>Test.Color</T><T>System.Enum</T></TN><Ref RefId="self2" /></Obj>`,
    ],
    [
      'two objects whose base values refer to each other',
      `<Obj N="${name}" RefId="self3"><Obj RefId="self4"><Ref RefId="self3" /></Obj></Obj>`,
    ],
  ]
}

/** Every variant of `body` with one element that has an N attribute replaced (at any depth). */
function* variants(body: string): Generator<[string, string]> {
  const root = parse(body)
  const rootRefId = root.attrs['RefId'] ?? '0'
  const named: XmlElement[] = []
  const walk = (el: XmlElement): void => {
    for (const c of el.children) {
      if (c.attrs['N'] !== undefined) named.push(c)
      walk(c)
    }
  }
  walk(root)
  for (const target of named) {
    for (const [what, replacement] of selfReferences(target.attrs['N'] as string, rootRefId)) {
      // the body written out again, with the target element replaced
      const swap = (el: XmlElement): string => {
        if (el === target) return replacement
        const attrs = Object.entries(el.attrs)
          .map(([k, v]) => ` ${k}="${escapeXmlAttr(v)}"`)
          .join('')
        return `<${el.name}${attrs}>${escapeXmlText(el.text)}${el.children.map(swap).join('')}</${el.name}>`
      }
      yield [`${target.attrs['N']} as ${what}`, swap(root)]
    }
  }
}

/** Getters of a value's class chain, up to (and including) PSObject's. */
function getters(v: object): string[] {
  const names = new Set<string>()
  for (let p = Object.getPrototypeOf(v) as object | null; p !== null && p !== Object.prototype;) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) if (d.get) names.add(k)
    p = Object.getPrototypeOf(p) as object | null
  }
  return [...names]
}

function typed(err: unknown): boolean {
  return err instanceof ClixmlError || err instanceof ProtocolError
}

/** Turns a decoded value into text and a number, and reads every typed getter, to a small depth. */
function touch(v: unknown, where: string, depth = 0): void {
  if (typeof v !== 'object' || v === null || depth > 2) return
  try {
    String(v)
  } catch (err) {
    assert.ok(typed(err), `${where}: String threw ${String(err)}`)
  }
  try {
    Number(v)
  } catch (err) {
    assert.ok(typed(err), `${where}: Number threw ${String(err)}`)
  }
  if (Array.isArray(v)) {
    for (const x of v.slice(0, 8)) touch(x, `${where}[]`, depth + 1)
    return
  }
  if (!(v instanceof PSObject)) {
    if (!(v instanceof Map) && !(v instanceof Uint8Array)) {
      for (const [k, x] of Object.entries(v)) touch(x, `${where}.${k}`, depth + 1)
    }
    return
  }
  for (const g of getters(v)) {
    let x: unknown
    try {
      x = (v as unknown as Record<string, unknown>)[g]
    } catch (err) {
      assert.ok(typed(err), `${where}.${g} threw ${String(err)}`)
      continue
    }
    touch(x, `${where}.${g}`, depth + 1)
  }
}

test('every message type: a self-referencing property decodes, or fails with a typed error, never a stack overflow', () => {
  let count = 0
  const failures = new Map<string, number>()
  for (const type of ALL_MESSAGE_TYPES) {
    const body = encodeMessageBody(type, sampleMessages[type] as never)
    if (body === '' || !body.startsWith('<Obj')) continue
    for (const [what, xml] of variants(body)) {
      count++
      let fields: unknown
      try {
        fields = decodeMessageBody(MessageType[type], xml).fields
      } catch (err) {
        assert.ok(typed(err), `${type} with ${what}: ${String(err)}`)
        if (err instanceof ProtocolError && err.message.includes('is not a number')) {
          failures.set(type, (failures.get(type) ?? 0) + 1)
        }
        continue
      }
      touch(fields, `${type} with ${what}`)
    }
  }
  assert.ok(count > 300, `${count} variants`)
  // the numeric properties of these bodies are read as numbers, so their self-references are refused
  for (const type of [
    'RUNSPACEPOOL_STATE',
    'PIPELINE_STATE',
    'RUNSPACEPOOL_INIT_DATA',
    'RUNSPACEPOOL_HOST_CALL',
    'PIPELINE_HOST_CALL',
    'RUNSPACEPOOL_HOST_RESPONSE',
    'PIPELINE_HOST_RESPONSE',
    'USER_EVENT',
    'INIT_RUNSPACEPOOL',
    'SET_MAX_RUNSPACES',
    'SET_MIN_RUNSPACES',
  ]) {
    assert.ok((failures.get(type) ?? 0) > 0, `${type}: no self-referencing number was refused`)
  }
})

test('RUNSPACEPOOL_STATE and PIPELINE_STATE: a self-referencing state is a ProtocolError naming the property', () => {
  const cases: [keyof typeof MessageType, string][] = [
    ['RUNSPACEPOOL_STATE', 'RunspaceState'],
    ['PIPELINE_STATE', 'PipelineState'],
    ['RUNSPACEPOOL_INIT_DATA', 'MinRunspaces'],
  ]
  for (const [type, prop] of cases) {
    for (const [what, replacement] of selfReferences(prop, '0')) {
      const xml = `<Obj RefId="0"><MS>${replacement}<I32 N="MaxRunspaces">1</I32></MS></Obj>`
      assert.throws(
        () => decodeMessageBody(MessageType[type], xml),
        (err: unknown) =>
          err instanceof ProtocolError && err.message.startsWith(`${type}.${prop} is not a number`),
        `${type} with ${what}`,
      )
    }
  }
  const call = `<Obj RefId="0"><MS><I64 N="ci">1</I64>${selfReferences('mi', '0')[2]?.[1]}<Obj N="mp" RefId="1"><LST /></Obj></MS></Obj>`
  for (const type of ['PIPELINE_HOST_CALL', 'RUNSPACEPOOL_HOST_CALL'] as const) {
    assert.throws(
      () => decodeMessageBody(MessageType[type], call),
      (err: unknown) =>
        err instanceof ProtocolError &&
        err.message.startsWith(`${type}.mi is not a number`) &&
        err.cause instanceof ClixmlError,
    )
  }
})
