/**
 * A `pwsh -s` child process spoken to with the OutOfProc packet protocol (`notes/transports.md` §1):
 * the server side of what WinRM's PowerShell plug-in (pwrshplugin.dll) does in-process on Windows.
 *
 * Ack discipline (§1.6): every Command/Data packet for a GUID waits until the previous one for that
 * GUID was acknowledged (`CommandAck`, `DataAck`), so at most one unacked Data is in flight per GUID
 * and Data for a pipeline is only sent after its `CommandAck`; Signal and Close wait for their own
 * acks (`SignalAck`, `CloseAck`) one at a time per GUID.
 */
import type { ChildProcess } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import {
  decodeLine,
  DEFAULT_PACKET_DATA,
  encodePacketLine,
  LineReader,
  SESSION_GUID,
  type OutOfProcPacket,
  type OutOfProcStream,
} from '../../../src/outofproc/index.ts'
import { openFifoPipesSync, spawnOnPipes } from '../../../src/transport/fifo.ts'

type AckKind = 'dataAck' | 'commandAck' | 'signalAck' | 'closeAck'

interface Waiter {
  readonly kind: AckKind
  readonly resolve: () => void
  readonly reject: (e: Error) => void
}

/** Events of a {@link PwshPeer}. */
export interface PwshPeerHandlers {
  /** pwsh wrote `<Data PSGuid=guid>` (guid lower case; {@link SESSION_GUID} for the pool). */
  onData(guid: string, data: Uint8Array): void
  /** The process exited (or could not be started). */
  onExit(description: string): void
}

/** How long an ack may take before the operation fails (pwsh's own client waits 60 s for Close/Signal). */
const ACK_TIMEOUT_MS = 60_000
/** How long a Signal/Close waits for the pipeline's unacked Data before it is sent anyway. */
const CONTROL_WAIT_MS = 2_000

/** One `pwsh -s` process. */
export class PwshPeer {
  readonly #child: ChildProcess
  readonly #stdin: Writable
  readonly #stdout: Readable
  readonly #handlers: PwshPeerHandlers
  readonly #waiters = new Map<string, Waiter[]>()
  readonly #chains = new Map<string, Promise<void>>()
  readonly #reader = new LineReader()
  #exited: string | undefined
  #stderr = ''
  #killed = false

  constructor(executable: string, handlers: PwshPeerHandlers) {
    this.#handlers = handlers
    // kernel pipes, as ProcessConnection gives pwsh (src/transport/fifo.ts), else the socket pair
    const [inPipe, outPipe] = openFifoPipesSync(2) ?? []
    const piped = spawnOnPipes(
      executable,
      ['-NoLogo', '-NoProfile', '-s'],
      {
        detached: process.platform !== 'win32',
        env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
        windowsHide: true,
      },
      inPipe,
      outPipe,
    )
    this.#child = piped.child
    this.#stdin = piped.stdin
    this.#stdout = piped.stdout
    this.#stdin.on('error', () => undefined)
    this.#stdout.on('error', () => undefined)
    this.#stdout.on('data', (chunk: Buffer) => {
      let lines: string[]
      try {
        lines = this.#reader.push(chunk)
      } catch (e) {
        this.#fatal(`unreadable output from pwsh: ${(e as Error).message}`)
        return
      }
      for (const line of lines) if (line.trim() !== '') this.#line(line)
    })
    const stderr = piped.stderr
    stderr.setEncoding('utf8')
    stderr.on('data', (text: string) => {
      if (this.#stderr.length < 64 * 1024) this.#stderr += text
    })
    this.#child.once('error', (e) => this.#gone(`pwsh could not be started: ${e.message}`))
    this.#child.once('exit', (code, signal) => {
      this.#stdin.destroy() // its reader is gone; the output pipe ends by itself once drained
      this.#gone(
        `pwsh (pid ${this.#child.pid ?? '?'}) ${code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`}` +
          (this.#stderr.trim() === '' ? '' : `; stderr: ${this.#stderr.trim()}`),
      )
    })
  }

  /** Stops (`true`) or resumes reading pwsh's output; pwsh blocks on its writes meanwhile. */
  setReading(paused: boolean): void {
    if (paused) this.#stdout.pause()
    else this.#stdout.resume()
  }

  /** The OS process id. */
  get pid(): number | undefined {
    return this.#child.pid
  }

  /** Why the process is gone, or undefined while it runs. */
  get exited(): string | undefined {
    return this.#exited
  }

  /** Text pwsh wrote to stderr. */
  get stderr(): string {
    return this.#stderr
  }

  /** Sends PSRP bytes as `<Data>` packets (≤ 32 KiB each, split at fragment boundaries), each acked. */
  sendData(guid: string, stream: OutOfProcStream, data: Uint8Array): Promise<void> {
    const packets = splitPackets(data)
    let last: Promise<void> = Promise.resolve()
    for (const p of packets) last = this.#enqueue(guid, 'dataAck', { kind: 'data', guid, stream, data: p })
    return last
  }

  /** `<Command PSGuid=guid />`, resolved on CommandAck. */
  command(guid: string): Promise<void> {
    return this.#enqueue(guid, 'commandAck', { kind: 'command', guid })
  }

  /**
   * `<Signal PSGuid=guid />`, resolved on SignalAck. Signal and Close wait at most
   * {@link CONTROL_WAIT_MS} for the GUID's unacked Data (a CREATE_PIPELINE may be acked only when the
   * pipeline starts), then go; they follow each other.
   */
  signal(guid: string): Promise<void> {
    return this.#enqueue(guid, 'signalAck', { kind: 'signal', guid }, 'control')
  }

  /** `<Close PSGuid=guid />`, resolved on CloseAck (see {@link signal} for the ordering). */
  close(guid: string): Promise<void> {
    return this.#enqueue(guid, 'closeAck', { kind: 'close', guid }, 'control')
  }

  /** Kills the process group and waits for the exit. */
  async kill(): Promise<void> {
    this.#killed = true
    if (this.#exited === undefined) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
      try {
        if (process.platform !== 'win32' && this.#child.pid !== undefined)
          process.kill(-this.#child.pid, 'SIGKILL')
        else this.#child.kill('SIGKILL')
      } catch {
        this.#child.kill('SIGKILL')
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())])
    }
  }

  /** True once {@link kill} was called (the exit is then expected). */
  get killed(): boolean {
    return this.#killed
  }

  #enqueue(
    guid: string,
    kind: AckKind,
    packet: OutOfProcPacket,
    lane: 'data' | 'control' = 'data',
  ): Promise<void> {
    const g = guid.toLowerCase()
    const key = `${lane}:${g}`
    let prev = this.#chains.get(key) ?? Promise.resolve()
    if (lane === 'control') {
      // pwsh handles lines concurrently: let the pipeline's pending Data be acked first so a Signal
      // cannot overtake its CREATE_PIPELINE, but never wait long for an ack that may not come.
      const data = this.#chains.get(`data:${g}`) ?? Promise.resolve()
      const bounded = Promise.race([data, new Promise<void>((r) => setTimeout(r, CONTROL_WAIT_MS).unref())])
      prev = Promise.all([prev.catch(() => undefined), bounded]).then(() => undefined)
    }
    const next = prev.catch(() => undefined).then(() => this.#sendAndWait(g, kind, packet))
    this.#chains.set(
      key,
      next.catch(() => undefined),
    )
    return next
  }

  #sendAndWait(guid: string, kind: AckKind, packet: OutOfProcPacket): Promise<void> {
    if (this.#exited !== undefined) return Promise.reject(new Error(this.#exited))
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        remove()
        reject(new Error(`pwsh sent no ${kind} for ${guid} within ${ACK_TIMEOUT_MS} ms`))
      }, ACK_TIMEOUT_MS)
      timer.unref()
      const w: Waiter = {
        kind,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      const remove = (): void => {
        const list = this.#waiters.get(guid)
        const i = list?.indexOf(w) ?? -1
        if (list !== undefined && i >= 0) list.splice(i, 1)
      }
      const list = this.#waiters.get(guid) ?? []
      list.push(w)
      this.#waiters.set(guid, list)
      this.#stdin.write(encodePacketLine(packet))
    })
  }

  #line(line: string): void {
    let packet
    try {
      packet = decodeLine(line)
    } catch (e) {
      this.#fatal(`pwsh wrote a malformed packet: ${(e as Error).message}`)
      return
    }
    switch (packet.kind) {
      case 'data':
        this.#handlers.onData(packet.guid, packet.data)
        return
      case 'dataAck':
      case 'commandAck':
      case 'signalAck':
      case 'closeAck': {
        const list = this.#waiters.get(packet.guid)
        const i = list?.findIndex((w) => w.kind === packet.kind) ?? -1
        if (list === undefined || i < 0) return // an ack nobody waits for (e.g. after a timeout)
        const [w] = list.splice(i, 1)
        w?.resolve()
        return
      }
      case 'serverError':
        if (this.#stderr.length < 64 * 1024) this.#stderr += `${packet.message}\n`
        return
      default:
        this.#fatal(`pwsh sent a client-only packet: ${line.slice(0, 80)}`)
    }
  }

  #fatal(why: string): void {
    if (this.#stderr.length < 64 * 1024) this.#stderr += `${why}\n`
    void this.kill()
  }

  #gone(description: string): void {
    if (this.#exited !== undefined) return
    this.#exited = description
    const err = new Error(description)
    for (const list of this.#waiters.values()) for (const w of list.splice(0)) w.reject(err)
    this.#handlers.onExit(description)
  }
}

/**
 * Splits PSRP fragment bytes into packets of at most {@link DEFAULT_PACKET_DATA} bytes, cutting at
 * fragment boundaries (a single fragment larger than a packet is cut raw: pwsh reassembles a byte
 * stream, `notes/transports.md` §1.5).
 */
export function splitPackets(data: Uint8Array): Uint8Array[] {
  if (data.length <= DEFAULT_PACKET_DATA) return data.length === 0 ? [] : [data]
  const out: Uint8Array[] = []
  let start = 0
  let pos = 0
  while (pos < data.length) {
    let len = data.length - pos
    if (data.length - pos >= 21) {
      const view = new DataView(data.buffer, data.byteOffset + pos, 21)
      len = Math.min(21 + view.getUint32(17, false), data.length - pos)
    }
    if (pos + len - start > DEFAULT_PACKET_DATA && pos > start) {
      out.push(data.subarray(start, pos))
      start = pos
    }
    pos += len
    while (pos - start > DEFAULT_PACKET_DATA) {
      out.push(data.subarray(start, start + DEFAULT_PACKET_DATA))
      start += DEFAULT_PACKET_DATA
    }
  }
  if (pos > start) out.push(data.subarray(start, pos))
  return out
}

export { SESSION_GUID }
