/**
 * A fake WinRM server on 127.0.0.1 that replays recorded Windows traffic (pypsrp's recordings, see
 * shared/notes/replay.md) against a client.
 *
 * Each POST /wsman is matched against the next recorded request: wsa:Action, ResourceURI,
 * SelectorSet, OptionSet (an absent WINRS_SKIP_CMD_SHELL/NOPROFILE/CONSOLEMODE_STDIN equals its
 * default), the body's shape (element names, attributes, text; xs:durations by value; order between
 * differently named children ignored) and, for PSRP payloads (creationXml, Send streams, Command
 * arguments, connectXml), the decoded PSRP messages (destination, type, RPID/PID and the CLIXML value
 * tree, see {@link ReplayOptions.psrp}). MessageID, SessionId, To, OperationTimeout, MaxEnvelopeSize,
 * locale, whitespace and namespace prefixes are ignored.
 *
 * GUIDs: recorded ShellId/CommandId/RPID/PID (and any other GUID in a compared position) are bound
 * one-to-one to the client's the first time they meet, and every response is rewritten with the
 * bindings, also inside base64 PSRP fragments (RPID/PID in message headers are read in the
 * recording's byte order, .NET or RFC 4122, and written in .NET order). Server-chosen GUIDs (WinRS
 * ShellId/CommandId) are served as recorded and the client must echo them. RelatesTo is set to the
 * incoming MessageID. A mismatch is answered with HTTP 500 and a WS-Man fault whose text lists the
 * differences, and recorded in {@link ReplayServer.mismatches}; the cursor does not move.
 *
 * Tolerated client differences (each can be turned off): PSRP messages split or merged over Sends
 * differently, and CREATE_PIPELINE continued in Sends ({@link ReplayOptions.flexibleSends}); pypsrp's
 * Signals after Done left out ({@link ReplayOptions.optional}); extra terminate Signals on finished
 * commands ({@link ReplayOptions.allowExtraSignals}); a new pipeline id where pypsrp reused one
 * ({@link ReplayOptions.reuseFinishedCommandIds}); opt-in, Receives running concurrently with other
 * requests ({@link ReplayOptions.concurrentReceives}), runspace-pool call ids bound like GUIDs
 * ({@link ReplayOptions.bindCallIds}), either spelling of PowerShell's stop signal
 * ({@link ReplayOptions.stopSignalSpellings}), a `terminate` after an answered stop
 * ({@link ReplayOptions.extraSignalsAfterStop}) and host responses sent on the pipeline's command
 * ({@link ReplayOptions.promptResponseOnCommand}).
 *
 * A held Receive whose client hangs up is dropped (it consumes nothing), and a request repeated after
 * a recorded `http_error` (a client retrying on what looks like a stale connection) is dropped again.
 *
 * ```ts
 * const server = await startReplayServer('…/test_psrp_open_runspace.yml')
 * // point the client at server.url, run the scenario (deriveScenario tells what to do)
 * await server.close()
 * assert.deepEqual(server.mismatches, [])
 * assert.equal(server.remainingRequired, 0)
 * ```
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { readRecording, type Exchange } from './recordings.ts'
import { ReplaySession, type Mismatch, type ReplayOptions } from './winrm-replay/session.ts'
import { WSManConnection, type WSManConnectionOptions } from '../../src/index.ts'

export type { Exchange } from './recordings.ts'
export { FreshGuids, clientRequest, backToRecorded, clientChosenGuids } from './winrm-replay/echo-client.ts'
export {
  ReplaySession,
  prepareRecording,
  defaultOptional,
  detectOrder,
  type Mismatch,
  type ReplayOptions,
  type ReplayReply,
  type PsrpStrictness,
  type PreparedExchange,
  type PreparedRecording,
} from './winrm-replay/session.ts'
export { GuidMap, asGuid, type GuidOrder } from './winrm-replay/guids.ts'
export {
  parseEnvelope,
  rewriteEnvelope,
  requestPayloads,
  responsePayloads,
  type ParsedEnvelope,
  type Payload,
} from './winrm-replay/envelope.ts'
export {
  canonicalClixml,
  diffCanon,
  readMessage,
  type Canon,
  type DecodedPsrpMessage,
} from './winrm-replay/psrp.ts'
export * from './winrm-replay/scenario.ts'

/** A running replay server. */
export interface ReplayServer {
  /** `http://127.0.0.1:<port>/wsman`. */
  readonly url: string
  readonly port: number
  /** Requests that did not match (each was answered with HTTP 500 and a fault explaining why). */
  readonly mismatches: Mismatch[]
  /** Requests answered from the recording (synthesized SendResponses included). */
  readonly served: number
  /** Recorded exchanges not consumed yet (optional ones included). */
  readonly remaining: number
  /** Recorded exchanges not consumed yet that the client must still send. */
  readonly remainingRequired: number
  /** The replay state (GUID bindings, cursor). */
  readonly session: ReplaySession
  /** Stops listening and drops open connections. */
  close(): Promise<void>
}

/** Options of {@link startReplayServer}. */
export interface ReplayServerOptions extends ReplayOptions {
  /** Path of the endpoint (default `/wsman`). */
  path?: string
  /** Print every exchange and mismatch to stderr. */
  log?: boolean
}

/** Starts a replay server for a recording file or a list of exchanges. */
export async function startReplayServer(
  recording: string | readonly Exchange[],
  options: ReplayServerOptions = {},
): Promise<ReplayServer> {
  const exchanges = typeof recording === 'string' ? readRecording(recording) : recording
  const session = new ReplaySession(exchanges, options)
  const path = options.path ?? '/wsman'
  const sockets = new Set<Socket>()
  // requests are matched in the order their bodies complete; matching itself is synchronous
  const timers = new Set<NodeJS.Timeout>()

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`replay server: only POST ${path}`)
      return
    }
    // a held Receive whose client hung up (an aborted long poll) must not consume an exchange later
    const hungUp = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) hungUp.abort()
    })
    const reply = await session.submit(text, hungUp.signal)
    if (hungUp.signal.aborted) return
    if (options.log === true) {
      const last = session.mismatches.at(-1)
      process.stderr.write(
        `replay: ${reply.status} after ${session.served} served` +
          (reply.status === 500 && last !== undefined
            ? `\n${last.message}\n`
            : `\n${reply.body.slice(0, 1500)}\n`),
      )
    }
    if (reply.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t)
          resolve()
        }, reply.delayMs)
        timers.add(t)
      })
    }
    if (reply.destroy) {
      req.socket.destroy()
      return
    }
    const body = Buffer.from(reply.body, 'utf8')
    res.writeHead(reply.status, {
      'content-type': 'application/soap+xml;charset=UTF-8',
      'content-length': body.length,
      server: 'Microsoft-HTTPAPI/2.0',
    })
    res.end(body)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`replay server error: ${String(err)}`)
    })
  })
  // no keep-alive timeout: the 5 s default can close an idle socket just as the client reuses it, and
  // the request then fails with ECONNRESET (seen once in CI, under load); close() destroys every socket
  server.keepAliveTimeout = 0
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    session,
    get mismatches() {
      return session.mismatches
    },
    get served() {
      return session.served
    },
    get remaining() {
      return session.remaining
    },
    get remainingRequired() {
      return session.remainingRequired
    },
    close: () =>
      new Promise<void>((resolve) => {
        session.close()
        for (const t of timers) clearTimeout(t)
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A client connection to a replay server: plain HTTP with Basic (the recordings hold traffic after
 * decryption), and no retries, since the replay serves each recorded exchange once and a retried
 * request would be a new one.
 */
export function replayConnection(
  server: { readonly port: number },
  options: Partial<WSManConnectionOptions> = {},
): WSManConnection {
  return new WSManConnection({
    server: '127.0.0.1',
    port: server.port,
    ssl: false,
    auth: 'basic',
    username: 'replay',
    password: 'replay',
    allowUnencryptedBasic: true,
    retries: { count: 0 },
    ...options,
  })
}
