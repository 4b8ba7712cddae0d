/**
 * An in-memory transport for client tests: what the client sends goes to a {@link PsrpTestServer},
 * what that server queues comes back as transport events.
 */
import { PsrpTestServer } from '../../helpers/psrp-server.ts'
import { AsyncEventQueue } from '../../../src/transport/event-queue.ts'
import type { PsrpError } from '../../../src/errors.ts'
import type { PsrpPayload, PsrpTransport, PsrpTransportEvent } from '../../../src/transport/psrp-transport.ts'

export class FakeTransport implements PsrpTransport {
  readonly server = new PsrpTestServer()
  readonly maxPacketSize = 32_768
  readonly failure: PsrpError | undefined = undefined
  poolCreated = false
  readonly pipelinesCreated: string[] = []
  readonly pipelinesClosed: string[] = []
  readonly signalled: string[] = []
  /** Called when a pipeline's CREATE_PIPELINE arrived: script the server's answer here. */
  onPipeline: ((server: PsrpTestServer, pipelineId: string) => void) | undefined
  readonly #queue = new AsyncEventQueue<PsrpTransportEvent>()

  start(): Promise<void> {
    return Promise.resolve()
  }

  send(payload: PsrpPayload): Promise<void> {
    for (const m of this.server.receive(payload)) {
      if (m.type === 'CREATE_PIPELINE' && m.pipelineId !== undefined)
        this.onPipeline?.(this.server, m.pipelineId)
    }
    this.#deliver()
    return Promise.resolve()
  }

  createPool(payload: PsrpPayload): Promise<void> {
    this.poolCreated = true
    return this.send(payload)
  }

  connectPool(payload: PsrpPayload): Promise<void> {
    return this.send(payload)
  }

  createPipeline(pipelineId: string, firstPayload: PsrpPayload): Promise<void> {
    this.pipelinesCreated.push(pipelineId)
    return this.send(firstPayload)
  }

  signal(pipelineId: string): Promise<void> {
    this.signalled.push(pipelineId)
    return Promise.resolve()
  }

  closePipeline(pipelineId: string): Promise<void> {
    this.pipelinesClosed.push(pipelineId)
    return Promise.resolve()
  }

  close(): Promise<void> {
    this.#queue.end()
    return Promise.resolve()
  }

  events(): AsyncIterableIterator<PsrpTransportEvent> {
    return this.#queue
  }

  setPaused(): void {}

  #deliver(): void {
    // later, as a real transport would: the client is still inside its send loop
    setImmediate(() => {
      for (const c of this.server.take(this.maxPacketSize))
        this.#queue.push({ type: 'data', pipelineId: c.pipelineId, stream: 'default', data: c.data })
    })
  }
}
