/**
 * The first pass of an `<Obj>` (MS-PSRP 2.2.5.2), gathered for the whole document in one linear scan.
 *
 * The deserializer must know an object's type names (`TN`/`TNRef`, MS-PSRP 2.2.5.2.3) and whether it
 * holds a collection (2.2.5.2.6) before it reads any property or item: the object is created, and its
 * RefId registered, before its children, so that a child can refer back to it. PowerShell writes these
 * children first, and the deserializer reads such objects in one streaming pass. When an object has them
 * after other content (hand-written or hostile CLIXML), the deserializer starts again with this scan,
 * which records for every `<Obj>` (by the offset of its `<`) its `TN`, `TNRef` and collection children in
 * document order, and for every `<PR>` how many child elements it has.
 *
 * @module
 */
import { XmlReader, XmlToken } from '../internal/xml-reader.ts'
import type { XmlParseOptions } from '../internal/xml.ts'
import { decodeClixmlString } from './escape.ts'

/** A child of an `<Obj>` that its first pass reads: a `TN`, a `TNRef` or a collection element. */
export interface FirstPassChild {
  /** Element name: `TN`, `TNRef`, `LST`, `IE`, `QUE`, `STK` or `DCT`. */
  readonly name: string
  /** Its `N` attribute (for error paths). */
  readonly n: string | undefined
  /** Offset of its `<`. */
  readonly offset: number
  /** Its `RefId` attribute (`TN` and `TNRef`). */
  readonly refId: string | undefined
  /** For a `TN`: the decoded text of each `<T>` child. */
  readonly names: string[]
  /** For a `TN`: its first child element that is not a `<T>`, if any. */
  notT: { name: string; n: string | undefined; offset: number } | undefined
}

/** What {@link scanFirstPass} found. */
export interface FirstPass {
  /** The first-pass children of each `<Obj>`, by the offset of its `<`. */
  readonly objects: Map<number, FirstPassChild[]>
  /** The number of child elements of each `<PR>`, by the offset of its `<`. */
  readonly progressChildren: Map<number, number>
}

/** What an open element is to the scan. */
const OTHER = 0
const OBJ = 1
const TN = 2
const T = 3
const PR = 4

interface Frame {
  readonly kind: number
  /** OBJ: its first-pass children. */
  readonly children: FirstPassChild[] | undefined
  /** TN and T: the `TN` being read. */
  readonly tn: FirstPassChild | undefined
  /** T: its text so far. */
  text: string
  /** PR: child elements so far. */
  count: number
  readonly offset: number
}

function isCollection(name: string): boolean {
  return name === 'LST' || name === 'IE' || name === 'QUE' || name === 'STK' || name === 'DCT'
}

/** Reads the whole document once (so any XML error is thrown here) and records every object's first pass. */
export function scanFirstPass(xml: string, limits: XmlParseOptions): FirstPass {
  const objects = new Map<number, FirstPassChild[]>()
  const progressChildren = new Map<number, number>()
  const r = new XmlReader(xml, limits)
  const stack: Frame[] = []
  for (;;) {
    const token = r.next()
    if (token === XmlToken.EndOfDocument) break
    if (token === XmlToken.Text) {
      const top = stack[stack.length - 1]
      if (top?.kind === T) top.text += r.text
      continue
    }
    if (token === XmlToken.EndElement) {
      const done = stack.pop() as Frame
      if (done.kind === T) (done.tn as FirstPassChild).names.push(decodeClixmlString(done.text))
      else if (done.kind === PR) progressChildren.set(done.offset, done.count)
      continue
    }
    const name = r.name
    const offset = r.offset
    const parent = stack[stack.length - 1]
    let tn: FirstPassChild | undefined
    if (parent !== undefined) {
      if (parent.kind === PR) parent.count++
      if (parent.kind === OBJ && (name === 'TN' || name === 'TNRef' || isCollection(name))) {
        const child: FirstPassChild = {
          name,
          n: r.attr('N'),
          offset,
          refId: r.attr('RefId'),
          names: [],
          notT: undefined,
        }
        ;(parent.children as FirstPassChild[]).push(child)
        if (name === 'TN') tn = child
      } else if (parent.kind === TN) {
        const owner = parent.tn as FirstPassChild
        if (name === 'T') tn = owner
        else owner.notT ??= { name, n: r.attr('N'), offset }
      }
    }
    let frame: Frame
    if (name === 'Obj') {
      const children: FirstPassChild[] = []
      objects.set(offset, children)
      frame = { kind: OBJ, children, tn: undefined, text: '', count: 0, offset }
    } else if (name === 'PR') {
      frame = { kind: PR, children: undefined, tn: undefined, text: '', count: 0, offset }
    } else if (tn !== undefined) {
      frame = { kind: name === 'TN' ? TN : T, children: undefined, tn, text: '', count: 0, offset }
    } else {
      frame = { kind: OTHER, children: undefined, tn: undefined, text: '', count: 0, offset }
    }
    stack.push(frame)
  }
  return { objects, progressChildren }
}
