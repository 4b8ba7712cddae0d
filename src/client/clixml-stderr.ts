/**
 * `powershell.exe` run as a child of a non-console process (WinRS, `cmd /c powershell …`) writes its
 * error, warning, verbose, debug and progress records to stderr as CLIXML: a line `#< CLIXML`
 * followed by an `<Objs>` document. Each top-level element's `S` attribute names its stream. Windows
 * PowerShell writes text streams as strings, `<S S="Error">` lines with their line ends escaped as
 * `_x000D__x000A_` (MS-PSRP 2.2.5.3.2); PowerShell 7 writes an error as the serialized record,
 * `<Obj S="Error">` with its message in `<ToString>`; both write progress as `<Obj S="progress">`. {@link clixmlStderrToText} turns each such block back into the text a console
 * would have shown, and leaves every other byte of stderr as it was; {@link ClixmlStderrFilter} does
 * the same to a stream, as it flows.
 *
 * @module
 */
import { StringDecoder } from 'node:string_decoder'
import { Transform, type TransformCallback } from 'node:stream'
import { parseXml, type XmlElement } from '../internal/xml.ts'
import { decodeClixmlString } from '../clixml/escape.ts'

const MARKER = '#< CLIXML'
const END = '</Objs>'

/** The console's prefix of each text stream (as PowerShell's host writes them); `''` for none. */
const PREFIX: Readonly<Record<string, string>> = {
  error: '',
  warning: 'WARNING: ',
  verbose: 'VERBOSE: ',
  debug: 'DEBUG: ',
  information: '',
  output: '',
}

/**
 * Replaces each `#< CLIXML` block of `stderr` with its readable text: error lines (a record's
 * message), warning/verbose/debug lines with the console's `WARNING: ` … prefixes, each ending in
 * CRLF; progress records dropped.
 * A block that is cut off or not well-formed XML is kept unchanged. Linear in the input.
 *
 * ```ts
 * clixmlStderrToText('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">oops_x000D__x000A_</S></Objs>')
 * // 'oops\r\n'
 * ```
 */
export function clixmlStderrToText(stderr: string): string {
  let at = stderr.indexOf(MARKER)
  if (at < 0) return stderr
  let out = ''
  let pos = 0
  while (at >= 0) {
    out += stderr.slice(pos, at)
    let start = at + MARKER.length
    if (stderr.startsWith('\r\n', start)) start += 2
    else if (stderr[start] === '\n') start += 1
    const end = stderr.startsWith('<Objs', start) ? stderr.indexOf(END, start) : -1
    if (end < 0) {
      // not a block after all (or cut off): keep the marker and go on after it
      out += MARKER
      pos = at + MARKER.length
    } else {
      const block = stderr.slice(start, end + END.length)
      const text = renderBlock(block)
      out += text ?? stderr.slice(at, end + END.length)
      pos = end + END.length
    }
    at = stderr.indexOf(MARKER, pos)
  }
  return out + stderr.slice(pos)
}

/** The text of one `<Objs>` document, or undefined when it is not well-formed. */
function renderBlock(xml: string): string | undefined {
  let root: XmlElement
  try {
    root = parseXml(xml, { error: (message) => new Error(message) })
  } catch {
    return undefined
  }
  let text = ''
  for (const child of root.children) {
    const stream = (child.attrs['S'] ?? 'output').toLowerCase()
    if (stream === 'progress') continue // a console draws progress bars, it prints no text
    // Windows PowerShell writes each formatted line as a string; PowerShell 7 writes the record
    // itself, whose <ToString> is its message
    const raw = child.name === 'S' ? child.text : child.children.find((c) => c.name === 'ToString')?.text
    if (raw === undefined) continue
    const prefix = PREFIX[stream] ?? ''
    const line = decodeClixmlString(raw)
    text += line.endsWith('\n') ? prefix + line : `${prefix}${line}\r\n`
  }
  return text
}

/** Longest block {@link ClixmlStderrFilter} holds back waiting for its end (then passed on raw). */
const MAX_BLOCK = 8 * 1024 * 1024
/** `\r\n<Objs`: what must follow the marker for it to start a block. */
const BLOCK_START = /^\r?\n?<Objs/

/**
 * A stream filter over a process's stderr (UTF-8 bytes in, UTF-8 bytes out) that converts each
 * `#< CLIXML` block as {@link clixmlStderrToText} does and passes everything else through as soon as
 * it arrives. A block is held back until it is complete, at most 8 MiB; a longer or unfinished one is
 * passed on unchanged.
 *
 * ```ts
 * proc.stderr.pipe(new ClixmlStderrFilter()).pipe(process.stderr)
 * ```
 */
export class ClixmlStderrFilter extends Transform {
  readonly #decoder = new StringDecoder('utf8')
  /** Text outside a block not yet passed on: at most a possible start of the marker. */
  #pending = ''
  /** The block being received (from its marker on), in pieces: joined once, when it is complete. */
  #block: string[] | undefined
  #blockLength = 0
  /** The block's last characters, where the start of its end tag may be. */
  #tail = ''

  /** Stream plumbing (`Transform`): filters one chunk of stderr bytes. */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#take(this.#decoder.write(chunk), false)
    callback()
  }

  /** Stream plumbing (`Transform`): passes on what is left when stderr ends. */
  override _flush(callback: TransformCallback): void {
    this.#take(this.#decoder.end(), true)
    callback()
  }

  #emit(text: string): void {
    if (text !== '') this.push(Buffer.from(text, 'utf8'))
  }

  /** Processes newly decoded text (each character is looked at a bounded number of times). */
  #take(text: string, final: boolean): void {
    let rest = text
    for (;;) {
      if (this.#block !== undefined) {
        const probe = this.#tail + rest
        const end = probe.indexOf(END)
        if (end < 0) {
          this.#block.push(rest)
          this.#blockLength += rest.length
          this.#tail = probe.slice(-(END.length - 1))
          if (final || this.#blockLength > MAX_BLOCK) this.#endBlock(false)
          return
        }
        const upTo = end + END.length - this.#tail.length
        this.#block.push(rest.slice(0, upTo))
        this.#endBlock(true)
        rest = rest.slice(upTo)
        continue
      }
      const pending = this.#pending + rest
      this.#pending = ''
      const at = pending.indexOf(MARKER)
      if (at < 0) {
        const keep = final ? 0 : markerPrefixAtEnd(pending)
        this.#emit(pending.slice(0, pending.length - keep))
        this.#pending = pending.slice(pending.length - keep)
        return
      }
      this.#emit(pending.slice(0, at))
      const after = pending.slice(at + MARKER.length, at + MARKER.length + 7)
      if (BLOCK_START.test(after)) {
        this.#block = []
        this.#blockLength = 0
        this.#tail = ''
        rest = pending.slice(at)
      } else if (!final && after.length < 7 && /^\r?\n?<?O?b?j?$/.test(after)) {
        this.#pending = pending.slice(at) // too early to tell whether a block starts
        return
      } else {
        this.#emit(MARKER)
        rest = pending.slice(at + MARKER.length)
      }
    }
  }

  /** Passes the block on: converted when it is complete, else as it was. */
  #endBlock(complete: boolean): void {
    const whole = (this.#block ?? []).join('')
    this.#block = undefined
    this.#blockLength = 0
    this.#tail = ''
    this.#emit(complete ? clixmlStderrToText(whole) : whole)
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of the marker. */
function markerPrefixAtEnd(text: string): number {
  for (let n = Math.min(MARKER.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(MARKER.slice(0, n))) return n
  }
  return 0
}
