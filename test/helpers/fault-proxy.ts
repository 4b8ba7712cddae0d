/**
 * A fault-injecting TCP proxy for HTTP/1.1 WS-Management traffic on 127.0.0.1: it sits between the
 * client and a WinRM server (the test bridge), reads each request whole (head and `Content-Length`
 * body, so it can see the SOAP action of unencrypted traffic) and asks the test's rule what to do with
 * it: pass it on, drop the connection before or after forwarding, cut the response half way, hold the
 * request (a stalled network), or answer it itself (a throttling front end's 429). One request is in
 * flight per connection, as the client sends them.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  /** Number of this request over the proxy's life, from 1. */
  readonly n: number
  /** Number of the client connection it came on, from 1. */
  readonly connection: number
  /** The last path segment of the SOAP `Action` (`Receive`, `Send`, `Command`, …), or `?`. */
  readonly action: string
  /** The `CommandId` of the request's `DesiredStream`/`Stream`/`Signal`, lower case, if any. */
  readonly commandId: string | undefined
  /** The request body as text. */
  readonly body: string
}

/** What to do with one request. */
export type FaultAction =
  /** Forward it and relay the response. */
  | 'pass'
  /** Close both sockets without forwarding (the request never reaches the server). */
  | 'drop'
  /** Reset the client socket without forwarding. */
  | 'reset'
  /** Forward it, then close both sockets before any response byte reaches the client. */
  | 'dropAfterForward'
  /** Forward it and relay half of the response's bytes, then close both sockets. */
  | 'cutResponse'
  /** Hold it: neither forward it nor answer, until the client gives up (a stalled network). */
  | 'stall'
  /** Answer it with this response instead of forwarding it. */
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }

/** A running proxy. */
export interface FaultProxy {
  /** The port clients connect to. */
  readonly port: number
  /** Every request seen, in order, with what was done to it. */
  readonly log: ReadonlyArray<ProxiedRequest & { readonly fault: string }>
  /** Client connections accepted so far. */
  readonly connections: number
  /** Replaces the rule. */
  setRule(rule: (req: ProxiedRequest) => FaultAction): void
  /** Stops listening and destroys every connection. */
  close(): Promise<void>
}

const HEAD_END = Buffer.from('\r\n\r\n')

/** Parses a head's `Content-Length` (0 when absent). */
function contentLength(head: string): number {
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  return m === null ? 0 : Number(m[1])
}

/**
 * Where an HTTP response in `buf` ends (Content-Length or chunked), or -1 while incomplete. Responses
 * without either (read to close) end at the close.
 */
function responseEnd(buf: Buffer): number {
  const headEnd = buf.indexOf(HEAD_END)
  if (headEnd < 0) return -1
  const head = buf.subarray(0, headEnd).toString('latin1')
  let pos = headEnd + 4
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const end = pos + contentLength(head)
    return buf.length >= end ? end : -1
  }
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos)
    if (lineEnd < 0) return -1
    const size = Number.parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size)) return -1
    pos = lineEnd + 2 + size + 2
    if (buf.length < pos) return -1
    if (size === 0) return pos
  }
}

/**
 * Starts a proxy on 127.0.0.1 to `target` (a port of 127.0.0.1). `rule` decides each request's fate;
 * the default passes everything.
 */
export async function startFaultProxy(
  target: number,
  rule: (req: ProxiedRequest) => FaultAction = () => 'pass',
): Promise<FaultProxy> {
  let decide = rule
  let requests = 0
  let connections = 0
  const log: Array<ProxiedRequest & { fault: string }> = []
  const sockets = new Set<Socket>()
  const track = (s: Socket): Socket => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => undefined)
    return s
  }

  const server: Server = createServer((client) => {
    track(client)
    const connection = ++connections
    let upstream: Socket | undefined
    let pending = Buffer.alloc(0)
    let busy = false
    let closed = false
    const closeBoth = (): void => {
      closed = true
      client.destroy()
      upstream?.destroy()
    }
    client.on('close', () => {
      closed = true
      upstream?.destroy()
    })
    const upstreamSocket = (): Socket => {
      if (upstream !== undefined && !upstream.destroyed) return upstream
      const s = track(connect(target, '127.0.0.1'))
      s.on('close', () => {
        if (!closed) client.destroy()
      })
      upstream = s
      return s
    }

    /** Forwards one request and relays its response (or part of it); resolves when done. */
    const forward = (request: Buffer, fault: FaultAction): Promise<void> =>
      new Promise((resolve) => {
        const up = upstreamSocket()
        let response = Buffer.alloc(0)
        // one upstream connection carries many requests: take both listeners off once this one is done
        const finish = (): void => {
          up.off('data', onData)
          up.off('close', finish)
          resolve()
        }
        const onData = (chunk: Buffer): void => {
          response = Buffer.concat([response, chunk])
          if (fault === 'cutResponse') {
            const end = responseEnd(response)
            const total = end < 0 ? response.length * 2 : end
            if (response.length * 2 >= total) {
              client.write(response.subarray(0, Math.max(1, Math.floor(total / 2))), () => closeBoth())
              finish()
            }
            return
          }
          const end = responseEnd(response)
          if (end < 0) return
          client.write(response.subarray(0, end))
          finish()
        }
        up.on('data', onData)
        up.once('close', finish)
        up.write(request, () => {
          if (fault === 'dropAfterForward') {
            // give the server the request, then vanish before it can answer
            setImmediate(() => {
              closeBoth()
              finish()
            })
          }
        })
      })

    const pump = async (): Promise<void> => {
      if (busy) return
      busy = true
      try {
        while (!closed) {
          const headEnd = pending.indexOf(HEAD_END)
          if (headEnd < 0) return
          const head = pending.subarray(0, headEnd).toString('latin1')
          const end = headEnd + 4 + contentLength(head)
          if (pending.length < end) return
          const request = pending.subarray(0, end)
          pending = pending.subarray(end)
          const body = request.subarray(headEnd + 4).toString('utf8')
          const info: ProxiedRequest = {
            n: ++requests,
            connection,
            action: /<(?:\w+:)?Action[^>]*>[^<]*\/(\w+)\s*</.exec(body)?.[1] ?? '?',
            commandId: /CommandId="([^"]+)"/i.exec(body)?.[1]?.toLowerCase(),
            body,
          }
          const fault = decide(info)
          log.push({ ...info, fault: typeof fault === 'string' ? fault : `answer ${fault.status}` })
          if (fault === 'pass' || fault === 'dropAfterForward' || fault === 'cutResponse') {
            await forward(request, fault)
          } else if (fault === 'drop') {
            closeBoth()
          } else if (fault === 'reset') {
            closed = true
            client.resetAndDestroy()
            upstream?.destroy()
          } else if (fault === 'stall') {
            // hold the connection open and answer nothing; the client's timeout ends it
            return
          } else {
            const text = fault.body ?? ''
            const headers = { 'Content-Length': String(Buffer.byteLength(text)), ...fault.headers }
            client.write(
              `HTTP/1.1 ${fault.status} Fault\r\n` +
                Object.entries(headers)
                  .map(([k, v]) => `${k}: ${v}\r\n`)
                  .join('') +
                `\r\n${text}`,
            )
          }
        }
      } finally {
        busy = false
      }
    }
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      void pump()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    log,
    get connections() {
      return connections
    },
    setRule(r) {
      decide = r
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
