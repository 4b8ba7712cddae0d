/**
 * A deliberately small WS-Man client for the bridge's own tests: envelopes from the `src/wsman`
 * builders, replies through `parseResponse`, PSRP payloads from the sans-IO `ClientRunspacePool`.
 * It proves the bridge speaks what the project's wsman layer builds and parses.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import {
  ClientRunspacePool,
  pipelineCommand,
  type ClientRunspacePoolOptions,
  type PipelineSpec,
  type PsrpEvent,
} from '../../../src/psrp/index.ts'
import {
  buildEnvelope,
  parseResponse,
  psrpCommand,
  psrpCreate,
  psrpDelete,
  psrpReceive,
  psrpSend,
  psrpSignal,
  type WSManRequest,
  type WSManResponse,
} from '../../../src/wsman/index.ts'

/** A raw HTTP reply. */
export interface RawReply {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: string
}

/** Options of {@link WSManTestClient}. */
export interface WSManTestClientOptions {
  readonly url: string
  readonly username?: string
  readonly password?: string
  /** CA/self-signed certificate to trust for HTTPS. */
  readonly ca?: string | Buffer
  /** Per-request OperationTimeout in seconds (default 20). */
  readonly operationTimeout?: number
  readonly maxEnvelopeSize?: number
}

/** Posts envelopes to the bridge over keep-alive connections. */
export class WSManTestClient {
  readonly #o: WSManTestClientOptions
  readonly #agent: HttpAgent | HttpsAgent

  constructor(o: WSManTestClientOptions) {
    this.#o = o
    this.#agent = o.url.startsWith('https:')
      ? new HttpsAgent({ keepAlive: true, ...(o.ca === undefined ? {} : { ca: o.ca }) })
      : new HttpAgent({ keepAlive: true })
  }

  /** POSTs a body; resolves with status, headers and text. */
  post(
    body: string,
    extraHeaders: Record<string, string> = {},
    auth = true,
    signal?: AbortSignal,
  ): Promise<RawReply> {
    const u = new URL(this.#o.url)
    const headers: Record<string, string> = {
      'Content-Type': 'application/soap+xml;charset=UTF-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...extraHeaders,
    }
    if (auth && this.#o.username !== undefined) {
      headers['Authorization'] =
        `Basic ${Buffer.from(`${this.#o.username}:${this.#o.password ?? ''}`).toString('base64')}`
    }
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise<RawReply>((resolve, reject) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers,
          agent: this.#agent,
          ...(signal === undefined ? {} : { signal }),
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          )
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  /** Builds, sends and parses one request. */
  async call(request: WSManRequest): Promise<{ status: number; response: WSManResponse; xml: string }> {
    const messageId = globalThis.crypto.randomUUID()
    const xml = buildEnvelope(request, {
      to: this.#o.url,
      messageId,
      ...(this.#o.operationTimeout === undefined ? {} : { operationTimeout: this.#o.operationTimeout }),
      ...(this.#o.maxEnvelopeSize === undefined ? {} : { maxEnvelopeSize: this.#o.maxEnvelopeSize }),
    })
    const reply = await this.post(xml)
    if (reply.status !== 200 && reply.status !== 500) {
      throw new Error(`HTTP ${reply.status} for ${request.action}`)
    }
    return {
      status: reply.status,
      response: parseResponse(reply.body, { relatesTo: messageId }),
      xml: reply.body,
    }
  }

  close(): void {
    this.#agent.destroy()
  }
}

/** Drives a {@link ClientRunspacePool} through the bridge. */
export class PsrpOverBridge {
  readonly pool: ClientRunspacePool
  readonly client: WSManTestClient
  readonly events: PsrpEvent[] = []
  readonly configurationName: string | undefined

  constructor(client: WSManTestClient, options: ClientRunspacePoolOptions = {}, configurationName?: string) {
    this.client = client
    this.pool = new ClientRunspacePool(options)
    this.configurationName = configurationName
  }

  get #target(): { shellId: string; configurationName?: string } {
    return {
      shellId: this.pool.id,
      ...(this.configurationName === undefined ? {} : { configurationName: this.configurationName }),
    }
  }

  /** Create with creationXml, then Receive until the pool is Opened. */
  async open(): Promise<WSManResponse> {
    this.pool.open()
    const first = this.pool.dataToSend()
    if (first === undefined) throw new Error('nothing to send')
    const { response } = await this.client.call(psrpCreate({ ...this.#target, creationXml: first.data }))
    if (response.kind !== 'created') throw new Error(`Create failed: ${JSON.stringify(response)}`)
    await this.flush()
    while (this.pool.state !== 'Opened') {
      if (this.pool.state === 'Broken' || this.pool.state === 'Closed')
        throw new Error(`pool ${this.pool.state}`)
      await this.receive()
      await this.flush()
    }
    return response
  }

  /** Sends whatever the pool (or a pipeline) has queued. */
  async flush(): Promise<void> {
    for (let p = this.pool.dataToSend(); p !== undefined; p = this.pool.dataToSend()) {
      const { response } = await this.client.call(
        psrpSend({
          ...this.#target,
          data: p.data,
          stream: p.stream === 'promptResponse' ? 'pr' : 'stdin',
          ...(p.pipelineId === undefined ? {} : { pipelineId: p.pipelineId }),
        }),
      )
      if (response.kind !== 'sent') throw new Error(`Send failed: ${JSON.stringify(response)}`)
    }
  }

  /** One Receive for the pool or a pipeline; feeds the pool; returns the parsed response. */
  async receive(pipelineId?: string, operationTimeout?: number): Promise<WSManResponse> {
    const { response } = await this.client.call(
      psrpReceive({
        ...this.#target,
        ...(pipelineId === undefined ? {} : { pipelineId }),
        ...(operationTimeout === undefined ? {} : { operationTimeout }),
      }),
    )
    if (response.kind === 'receive') {
      for (const s of response.streams) this.pool.receiveData(s.data, pipelineId)
      for (let e = this.pool.nextEvent(); e !== undefined; e = this.pool.nextEvent()) this.events.push(e)
    }
    return response
  }

  /** Starts a pipeline (a script, or a full spec) with Command; returns its id. */
  async start(what: string | PipelineSpec): Promise<string> {
    const spec =
      typeof what === 'string' ? { statements: [[pipelineCommand({ command: what, isScript: true })]] } : what
    const p = this.pool.createPipeline(spec)
    p.start()
    const payload = this.pool.dataToSend()
    if (payload === undefined) throw new Error('no CREATE_PIPELINE')
    const { response } = await this.client.call(
      psrpCommand({ ...this.#target, pipelineId: p.id, arguments: payload.data }),
    )
    if (response.kind !== 'commandCreated') throw new Error(`Command failed: ${JSON.stringify(response)}`)
    await this.flush()
    return p.id
  }

  /** Receives for a pipeline until CommandState Done; returns the output values. */
  async collect(
    pipelineId: string,
  ): Promise<{ outputs: unknown[]; done: boolean; receives: WSManResponse[] }> {
    const outputs: unknown[] = []
    const receives: WSManResponse[] = []
    for (;;) {
      const before = this.events.length
      const r = await this.receive(pipelineId)
      receives.push(r)
      for (const e of this.events.slice(before)) {
        if (e.type === 'pipelineOutput' && e.pipelineId === pipelineId) outputs.push(e.value)
      }
      if (r.kind === 'fault') throw new Error(`Receive fault: ${r.fault.message ?? r.fault.reason ?? ''}`)
      if (r.kind === 'receive' && r.commandState?.done === true) return { outputs, done: true, receives }
    }
  }

  signal(pipelineId: string, code: 'ps_crtl_c' | 'terminate'): Promise<{ response: WSManResponse }> {
    return this.client.call(psrpSignal({ ...this.#target, pipelineId, code }))
  }

  delete(): Promise<{ response: WSManResponse }> {
    return this.client.call(psrpDelete(this.#target))
  }
}
