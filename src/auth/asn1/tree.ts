/**
 * Schema-less DER: decodes any DER buffer into a tree of {@link DerTree} nodes (constructed values
 * recursively, primitive values as raw contents) and encodes such a tree back (X.690 §8.1, §10).
 * Strict DER parsing means `encodeDerTree(decodeDerTree(x))` reproduces `x` byte for byte. Useful
 * for diagnostics, tests and for carrying unknown extensions through unchanged.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { type TagClass, readElement } from './reader.ts'
import { type DerNode, derTlv, encodeDer } from './writer.ts'

/** One node of a decoded DER tree. */
export interface DerTree {
  /** Tag class. */
  readonly tagClass: TagClass
  /** Tag number. */
  readonly tag: number
  /** Primitive contents (absent for constructed values). */
  readonly value?: Uint8Array
  /** Children of a constructed value (absent for primitive values). */
  readonly children?: readonly DerTree[]
}

/** Limits for {@link decodeDerTree}. */
export interface DerTreeLimits {
  /** Deepest nesting accepted (default 64). */
  readonly maxDepth?: number
  /** Most nodes accepted in total (default 100 000). */
  readonly maxNodes?: number
}

/**
 * Decodes one DER value (the whole buffer) into a tree. Malformed or too deep input is a
 * `ProtocolError`.
 */
export function decodeDerTree(bytes: Uint8Array, limits: DerTreeLimits = {}): DerTree {
  const maxDepth = limits.maxDepth ?? 64
  const maxNodes = limits.maxNodes ?? 100_000
  let nodes = 0
  const parse = (buf: Uint8Array, offset: number, end: number, depth: number): [DerTree, number] => {
    if (depth > maxDepth) throw new ProtocolError(`DER: nesting deeper than ${maxDepth}`)
    if (++nodes > maxNodes) throw new ProtocolError(`DER: more than ${maxNodes} elements`)
    const e = readElement(buf, offset, end)
    if (!e.constructed) return [{ tagClass: e.tagClass, tag: e.tag, value: e.content }, e.encoded.length]
    const children: DerTree[] = []
    let o = 0
    while (o < e.content.length) {
      const [child, size] = parse(e.content, o, e.content.length, depth + 1)
      children.push(child)
      o += size
    }
    return [{ tagClass: e.tagClass, tag: e.tag, children }, e.encoded.length]
  }
  const [root, size] = parse(bytes, 0, bytes.length, 0)
  if (size !== bytes.length) {
    throw new ProtocolError(`DER: ${bytes.length - size} trailing bytes after the value`)
  }
  return root
}

function toNode(t: DerTree): DerNode {
  if (t.children !== undefined) return derTlv(t.tagClass, t.tag, t.children.map(toNode))
  return derTlv(t.tagClass, t.tag, t.value ?? new Uint8Array(0))
}

/** Encodes a tree (as returned by {@link decodeDerTree} or built by hand) to DER. */
export function encodeDerTree(tree: DerTree): Uint8Array {
  return encodeDer(toNode(tree))
}

/** The tree as a {@link DerNode}, to embed in values built with the writer. */
export function derFromTree(tree: DerTree): DerNode {
  return toNode(tree)
}
