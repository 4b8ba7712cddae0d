/**
 * What PSRP and WinRS shells of the bridge share: the reply type, the `rsp:Shell` description Windows
 * returns from Create/Get/Enumerate, and long-poll Receive waiters.
 */
import { el, type XmlChild, type XmlNode } from '../../../src/wsman/xml-node.ts'
import { dayDuration, Faults, secondsDuration, type FaultSpec } from './soap.ts'

/** What an operation answers: a body for the success envelope, or a fault. */
export type OpResult =
  | {
      readonly kind: 'ok'
      readonly action: string
      /** Children of `s:Body` (none: an empty body, as Delete/Disconnect/Reconnect answer). */
      readonly body?: XmlChild | readonly XmlChild[]
    }
  | { readonly kind: 'fault'; readonly fault: FaultSpec }

/** A fault result. */
export const fault = (f: FaultSpec): OpResult => ({ kind: 'fault', fault: f })

/** Shell facts common to both kinds. */
export interface ShellFacts {
  readonly shellId: string
  readonly resourceUri: string
  readonly owner: string
  readonly clientIp: string
  readonly processId: number | undefined
  readonly idleTimeoutS: number
  readonly inputStreams: string
  readonly outputStreams: string
  readonly name: string | undefined
  readonly createdAt: number
  readonly lastActivity: number
  readonly state: 'Connected' | 'Disconnected'
  readonly bufferMode: string
  readonly psrp: boolean
}

/**
 * The `rsp:Shell` description, children in Windows' order. `full` adds MemoryUsed/ChildProcesses as
 * Get and Enumerate do.
 */
export function shellDescription(f: ShellFacts, full: boolean): XmlNode {
  const now = Date.now()
  return el(
    'rsp:Shell',
    { 'xmlns:rsp': 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell' },
    el('rsp:ShellId', undefined, f.shellId),
    f.name !== undefined && el('rsp:Name', undefined, f.name),
    el('rsp:ResourceUri', undefined, f.resourceUri),
    el('rsp:Owner', undefined, f.owner),
    el('rsp:ClientIP', undefined, f.clientIp),
    f.processId !== undefined && el('rsp:ProcessId', undefined, String(f.processId)),
    el('rsp:IdleTimeOut', undefined, secondsDuration(f.idleTimeoutS)),
    el('rsp:InputStreams', undefined, f.inputStreams),
    el('rsp:OutputStreams', undefined, f.outputStreams),
    f.psrp && el('rsp:MaxIdleTimeOut', undefined, 'PT2147483.647S'),
    f.psrp && el('rsp:Locale', undefined, 'en-US'),
    f.psrp && el('rsp:DataLocale', undefined, 'en-US'),
    f.psrp && el('rsp:CompressionMode', undefined, 'NoCompression'),
    f.psrp && el('rsp:ProfileLoaded', undefined, 'Yes'),
    f.psrp && el('rsp:Encoding', undefined, 'UTF8'),
    f.psrp && el('rsp:BufferMode', undefined, f.bufferMode),
    f.psrp && el('rsp:State', undefined, f.state),
    el('rsp:ShellRunTime', undefined, dayDuration(now - f.createdAt)),
    el('rsp:ShellInactivity', undefined, dayDuration(now - f.lastActivity)),
    full && el('rsp:MemoryUsed', undefined, '46MB'),
    full && el('rsp:ChildProcesses', undefined, '0'),
  )
}

/** A pending long-poll Receive. */
export interface ReceiveWaiter {
  /** Whom it waits for (lower-case pipeline GUID, WinRS CommandId, or the pool's nil GUID). */
  readonly target: string
  /** Try to answer now; returns true when answered. */
  readonly tryAnswer: () => boolean
  /** Answer with a fault (shell gone). */
  readonly abort: (f: FaultSpec) => void
}

/** Waits until `tryAnswer` succeeds (called now and on every {@link WaiterSet.wake}) or the timeout. */
export class WaiterSet {
  readonly #waiters = new Set<ReceiveWaiter>()

  /** Registers a Receive; resolves with its result. */
  wait(
    target: string,
    timeoutMs: number,
    answer: () => OpResult | undefined,
    onTimeout: () => OpResult,
    cancelled?: AbortSignal,
  ): Promise<OpResult> {
    return new Promise<OpResult>((resolve) => {
      let done = false
      const finish = (r: OpResult): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        this.#waiters.delete(w)
        resolve(r)
      }
      const w: ReceiveWaiter = {
        target,
        tryAnswer: () => {
          if (done) return true
          const r = answer()
          if (r === undefined) return false
          finish(r)
          return true
        },
        abort: (f) => finish({ kind: 'fault', fault: f }),
      }
      const timer = setTimeout(() => finish(onTimeout()), timeoutMs)
      this.#waiters.add(w)
      // A client that hung up must not take buffered output with it: drop the waiter unanswered.
      cancelled?.addEventListener(
        'abort',
        () => w.abort(Faults.aborted('The client closed the connection.')),
        {
          once: true,
        },
      )
      if (cancelled?.aborted !== true) w.tryAnswer()
    })
  }

  /** Lets waiters for `target` (or all, when undefined) try again; the first that answers wins. */
  wake(target?: string): void {
    for (const w of [...this.#waiters]) {
      if (target === undefined || w.target === target) {
        if (w.tryAnswer() && target !== undefined) return
      }
    }
  }

  /** Answers every waiter with a fault. */
  abortAll(f: FaultSpec): void {
    for (const w of [...this.#waiters]) w.abort(f)
  }

  get size(): number {
    return this.#waiters.size
  }
}
