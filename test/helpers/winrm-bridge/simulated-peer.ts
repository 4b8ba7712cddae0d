/**
 * An in-process stand-in for the `pwsh -s` behind a PSRP shell of the WinRM test server, for serving
 * many hosts from one process (the fleet bench): it speaks the server side of PSRP through the
 * project's own codecs ({@link PsrpTestServer}: the open handshake, key exchange), and answers every
 * pipeline with the output of `answer` followed by the Completed state, without running anything.
 * Acks (CommandAck, CloseAck, …) are immediate. One runs in well under a megabyte, where a real
 * `pwsh` takes about 100 MB.
 */
import { NIL_GUID } from '../../../src/psrp/index.ts'
import { PsrpTestServer } from '../psrp-server.ts'
import type { OutOfProcStream } from '../../../src/outofproc/index.ts'
import type { PwshPeerHandlers } from './pwsh-peer.ts'

/** What a PSRP shell needs of the process behind it (a real {@link PwshPeer} or a simulated one). */
export interface ShellPeer {
  /** The process id, when there is a process. */
  readonly pid: number | undefined
  /** True once {@link kill} was called. */
  readonly killed: boolean
  /** Stops (or resumes) reading the peer's output, for backpressure. */
  setReading(paused: boolean): void
  /** Data for the pool (`NIL_GUID`) or a pipeline; resolves when it is acknowledged. */
  sendData(guid: string, stream: OutOfProcStream, data: Uint8Array): Promise<void>
  /** Announces a pipeline; resolves on its CommandAck. */
  command(guid: string): Promise<void>
  /** Stops a pipeline; resolves on its SignalAck. */
  signal(guid: string): Promise<void>
  /** Closes a pipeline, or the pool (`NIL_GUID`); resolves on its CloseAck. */
  close(guid: string): Promise<void>
  /** Ends the process. */
  kill(): Promise<void>
}

/** The output objects of a pipeline, from the text of its commands. */
export type SimulatedAnswer = (commands: readonly string[]) => unknown[]

/** A simulated `pwsh -s` (see the module comment). */
export class SimulatedPwshPeer implements ShellPeer {
  readonly #server = new PsrpTestServer()
  readonly #handlers: PwshPeerHandlers
  readonly #answer: SimulatedAnswer
  #killed = false

  constructor(handlers: PwshPeerHandlers, answer: SimulatedAnswer) {
    this.#handlers = handlers
    this.#answer = answer
  }

  get pid(): number | undefined {
    return undefined
  }

  get killed(): boolean {
    return this.#killed
  }

  setReading(): void {
    // the answers are small and queued at once: nothing to pause
  }

  async sendData(guid: string, stream: OutOfProcStream, data: Uint8Array): Promise<void> {
    const pipelineId = guid === NIL_GUID ? undefined : guid
    const received = this.#server.receive({
      data,
      stream: stream === 'promptResponse' ? 'promptResponse' : 'default',
      pipelineId,
    })
    for (const m of received) {
      if (m.decoded.type !== 'CREATE_PIPELINE' || pipelineId === undefined) continue
      const commands = m.decoded.fields.statements.flat().map((c) => c.command)
      for (const value of this.#answer(commands)) this.#server.send('PIPELINE_OUTPUT', { value }, pipelineId)
      this.#server.sendPipelineState(pipelineId, 'Completed')
    }
    this.#flush()
  }

  async command(): Promise<void> {}

  async signal(guid: string): Promise<void> {
    this.#server.sendPipelineState(guid, 'Stopped')
    this.#flush()
  }

  async close(): Promise<void> {}

  async kill(): Promise<void> {
    if (this.#killed) return
    this.#killed = true
    setImmediate(() => this.#handlers.onExit('the simulated pwsh was ended'))
  }

  /** Hands what the server queued to the shell, after the current turn (as pwsh's output would arrive). */
  #flush(): void {
    if (!this.#server.hasOutput) return
    const chunks = this.#server.take()
    setImmediate(() => {
      for (const c of chunks) this.#handlers.onData((c.pipelineId ?? NIL_GUID).toLowerCase(), c.data)
    })
  }
}
