/**
 * Reads a line protocol (OutOfProc) from a kernel pipe without waking for every small write.
 *
 * pwsh writes its output through .NET's console stream in 256-byte pieces, so a reader that reads
 * whenever the pipe is readable is woken for a few hundred bytes at a time: in a 50 MiB fetch, tens
 * of thousands of wake-ups, each a `read`, a JavaScript callback and a buffer. While a long line is
 * arriving, this reader instead stops reading for {@link LONG_LINE_NAP_MS} after a small read; the
 * pipe (64 KiB) fills meanwhile and the next read takes much more of the line. Short lines (an
 * invoke's messages, a few KB) never wait: a read only pauses when the line it ends in has reached
 * {@link LONG_LINE_BYTES} without its terminator. Measured in fetches of 50 MiB over `pwsh -s`: the
 * client's CPU 1.5–1.9 → 1.0–1.4 s, throughput unchanged or better.
 *
 * The pause is a trade, measured again later (alternating, 50 MiB over `pwsh -s`): it lets the pipe
 * fill, and pwsh's serializing thread then waits in `pipe_write` (sampled from `/proc`: 27% of the
 * time, against 9% without the pause). When the cores have room (warm fetches, 10 rounds each way)
 * reading without the pause was 11% faster (23.8 against 21.4 MiB/s) for 0.4 s more client CPU per
 * fetch; in a new session, where pwsh's JIT keeps a core busy, it was 10% slower (15.3–15.9 against
 * 16.5–17.6 MiB/s; through the WinRM test bridge 8.9–9.4 against 9.1–11.4). The pause stays: a
 * first transfer is the common one.
 *
 * Reads go into one reusable buffer (`net.Socket`'s `onread` option) and are copied out, so a read
 * allocates only the bytes it got. Back-pressure is kept: when the consumer stops reading, so does
 * the pipe.
 *
 * @module
 */
import { Socket, type SocketConstructorOpts } from 'node:net'
import { Readable } from 'node:stream'

/** Size of the reusable read buffer (a Linux pipe holds 64 KiB). */
const READ_BUFFER_BYTES = 64 * 1024
/** A line that has reached this many bytes without its terminator is a long one. */
export const LONG_LINE_BYTES = 8 * 1024
/** A read of fewer bytes than this, in a long line, pauses reading. */
const SMALL_READ_BYTES = 16 * 1024
/** How long reading pauses after a small read in a long line, in ms. */
export const LONG_LINE_NAP_MS = 1

/** `net.Socket`'s constructor takes `onread` as `net.connect` does; @types/node declares it for the latter only. */
interface SocketWithOnRead extends SocketConstructorOpts {
  onread: { buffer: Uint8Array; callback: (bytesWritten: number, buf: Uint8Array) => boolean }
}

/** A readable stream of the bytes of a pipe, read in fewer, larger pieces while long lines arrive. */
export class PipeLineReader extends Readable {
  readonly #socket: Socket
  /** Bytes since the last `\n`. */
  #lineBytes = 0
  #napTimer: ReturnType<typeof setTimeout> | undefined
  /** The consumer wants more (the last push did not report a full buffer). */
  #wanted = true
  #ended = false

  /** @param fd - the read end of a pipe, open in this process; the reader owns it from now on. */
  constructor(fd: number) {
    super()
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
    const options: SocketWithOnRead = {
      fd,
      readable: true,
      writable: false,
      onread: { buffer, callback: (n, buf) => this.#onRead(n, buf) },
    }
    this.#socket = new Socket(options)
    const end = (): void => {
      if (this.#ended) return
      this.#ended = true
      this.push(null)
    }
    this.#socket.on('end', end)
    this.#socket.on('close', end)
    this.#socket.on('error', (e) => this.destroy(e))
  }

  #onRead(n: number, buf: Uint8Array): boolean {
    const lf = buf.lastIndexOf(0x0a, n - 1)
    this.#lineBytes = lf === -1 ? this.#lineBytes + n : n - lf - 1
    this.#wanted = this.push(Buffer.from(buf.subarray(0, n)))
    if (!this.#wanted) return false
    if (n < SMALL_READ_BYTES && this.#lineBytes >= LONG_LINE_BYTES) {
      this.#napTimer = setTimeout(() => {
        this.#napTimer = undefined
        if (this.#wanted && !this.destroyed) this.#socket.resume()
      }, LONG_LINE_NAP_MS)
      return false
    }
    return true
  }

  override _read(): void {
    this.#wanted = true
    if (this.#napTimer === undefined) this.#socket.resume()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#napTimer !== undefined) clearTimeout(this.#napTimer)
    this.#napTimer = undefined
    this.#socket.destroy()
    callback(error)
  }
}
