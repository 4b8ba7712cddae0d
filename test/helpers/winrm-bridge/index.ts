/**
 * A WinRM server for tests that bridges PowerShell shells to real `pwsh -s` processes (and WinRS
 * shells to local processes), so the WS-Man client can be tested end to end without Windows.
 *
 * ```ts
 * const bridge = await startWinRMBridge({ pwsh: findPwsh()!, username: 'u', password: 'p' })
 * // POST SOAP envelopes to bridge.url with Basic auth …
 * await bridge.close()
 * ```
 *
 * What it reproduces from Windows WinRM (shapes copied from the pypsrp recordings): response actions
 * and envelopes (`a:RelatesTo`, `x:ResourceCreated` + `rsp:Shell`), long-poll Receive with the
 * `w:TimedOut` fault (HTTP 500), CommandState Done (+ ExitCode 0) in the Receive carrying a
 * pipeline's last data, Pending while a host call waits for its answer, `w:InvalidSelectors` for
 * unknown shells and commands, 401 with `WWW-Authenticate: Basic realm="WSMAN"`, `w:EncodingLimit`
 * for requests over `maxEnvelopeSize`, Enumerate/Get of shells, Disconnect/Reconnect, Connect.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { Namespace, SELECTOR_FILTER_DIALECT, WSManAction } from '../../../src/wsman/constants.ts'
import { ResourceUri } from '../../../src/wsman/index.ts'
import { liftStreams } from '../../../src/wsman/stream-lift.ts'
import { el, type XmlChild } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild, nsChildren } from '../../../src/wsman/xml-ns.ts'
import type { CimResponder } from './cim-responder.ts'
import { PsrpShell } from './psrp-shell.ts'
import { shellDescription, type OpResult } from './shell-common.ts'
import {
  BadRequestError,
  envelopeBytes,
  faultEnvelope,
  Faults,
  newGuid,
  parseLiftedRequest,
  SHELL_PREFIXES,
  type FaultSpec,
  type SoapRequest,
} from './soap.ts'
import { WinRsShell } from './winrs-shell.ts'
import { SimulatedPwshPeer, type SimulatedAnswer } from './simulated-peer.ts'

/** Options of {@link startWinRMBridge}. */
export interface WinRMBridgeOptions {
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  readonly https?: { readonly key: string | Buffer; readonly cert: string | Buffer }
  /** Basic auth user name; when both are undefined no authentication is required. */
  readonly username?: string
  readonly password?: string
  /** The pwsh executable for PowerShell shells. */
  readonly pwsh: string
  /** Largest request accepted in bytes (Windows' MaxEnvelopeSizekb default: 500 KiB). */
  readonly maxEnvelopeSize?: number
  /** Caps every Receive long poll (the request's OperationTimeout), in ms; default 60 000. */
  readonly operationTimeoutCapMs?: number
  /** Port on 127.0.0.1 (default 0: a free one). */
  readonly port?: number
  /** Answers the WMI resource URIs (`…/wmi/root/cimv2/…`): Get, Enumerate/Pull/Release, methods. */
  readonly cim?: CimResponder
  /**
   * PowerShell shells answered in-process by a {@link SimulatedPwshPeer} with these outputs
   * instead of a `pwsh -s` each (`pwsh` is then not run): light enough for a thousand hosts.
   */
  readonly simulate?: SimulatedAnswer | undefined
}

/** One handled request. */
export interface BridgeRequestRecord {
  /** The `wsa:Action` (empty when the envelope was not read, e.g. a 401). */
  readonly action: string
  /** The HTTP status sent. */
  readonly status: number
}

/** A running bridge. */
export interface WinRMBridge {
  /** `http(s)://127.0.0.1:<port>/wsman`. */
  readonly url: string
  readonly port: number
  /** Stops listening, kills every shell process, closes connections. */
  close(): Promise<void>
  /** Number of open shells (PSRP and WinRS). */
  shells(): number
  /** Every request handled, in order. */
  readonly requests: BridgeRequestRecord[]
  /** The pwsh process id of a PSRP shell (tests use it to check Delete kills it). */
  pwshPid(shellId: string): number | undefined
}

type Shell = PsrpShell | WinRsShell

const SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8'
const DEFAULT_MAX_ENVELOPE = 512_000

/** Starts a bridge on 127.0.0.1 (a free port unless `options.port`). */
export async function startWinRMBridge(options: WinRMBridgeOptions): Promise<WinRMBridge> {
  const shells = new Map<string, Shell>()
  const requests: BridgeRequestRecord[] = []
  const sockets = new Set<Socket>()
  const maxEnvelope = options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE
  const cap = options.operationTimeoutCapMs ?? 60_000
  const scheme = options.https === undefined ? 'http' : 'https'
  let port = 0
  const owner = options.username ?? 'bridge'

  const gone = (s: Shell): void => {
    if (shells.get(s.shellId) === s) shells.delete(s.shellId)
  }

  /**
   * Logs a request. The action is a substring of the request body, and V8 keeps substrings as slices
   * of their parent, so logging it as is kept every body (up to `maxEnvelopeSize` each) alive for the
   * bridge's lifetime (measured: a 50 MiB copy and fetch left 93 MiB of heap behind; 1.6 MiB now).
   * Actions are logged as owned copies, interned (a bridge sees a handful of distinct actions), so a
   * record costs a few dozen bytes.
   */
  const actions = new Map<string, string>()
  const record = (action: string, status: number): void => {
    let owned = actions.get(action)
    if (owned === undefined) {
      owned = Buffer.from(action, 'utf8').toString('utf8')
      actions.set(owned, owned)
    }
    requests.push({ action: owned, status })
  }

  const send = (res: ServerResponse, status: number, body: string | Buffer, action: string): void => {
    record(action, status)
    if (res.writableEnded) return
    res.writeHead(status, {
      'Content-Type': SOAP_CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      Server: 'Microsoft-HTTPAPI/2.0',
    })
    res.end(body)
  }

  const authorized = (req: IncomingMessage): boolean => {
    if (options.username === undefined && options.password === undefined) return true
    const h = req.headers.authorization ?? ''
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h)
    if (m === null) return false
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8')
    return decoded === `${options.username ?? ''}:${options.password ?? ''}`
  }

  const render = (r: OpResult, relatesTo: string): { status: number; body: string | Buffer } => {
    if (r.kind === 'fault') return { status: 500, body: faultEnvelope(relatesTo, r.fault) }
    const body: XmlChild[] =
      r.body === undefined ? [] : Array.isArray(r.body) ? [...(r.body as XmlChild[])] : [r.body as XmlChild]
    const prefixes = RESPONSE_PREFIXES[r.action] ?? SHELL_PREFIXES
    return { status: 200, body: envelopeBytes(r.action, relatesTo, prefixes, ...body) }
  }

  const dispatch = async (req: SoapRequest, clientIp: string): Promise<OpResult> => {
    const uri = req.resourceUri
    const address = `${scheme}://127.0.0.1:${port}/wsman`
    const selected = (): Shell | undefined => {
      const id = req.selectors['ShellId']
      return id === undefined ? undefined : shells.get(id.toUpperCase())
    }
    if (uri.toLowerCase().startsWith(ResourceUri.PowerShellPrefix.toLowerCase()) || uri === ResourceUri.Cmd) {
      const psrp = uri !== ResourceUri.Cmd
      if (req.action === WSManAction.Create) {
        if (psrp) {
          const requested = nsAttr(req.body, 'ShellId')?.toUpperCase() ?? newGuid()
          if (shells.has(requested)) return { kind: 'fault', fault: alreadyExists() }
          const shell = new PsrpShell(requested, uri, {
            pwsh: options.pwsh,
            owner,
            clientIp,
            operationTimeoutCapMs: cap,
            onGone: gone,
            ...(options.simulate === undefined
              ? {}
              : { peer: (h) => new SimulatedPwshPeer(h, options.simulate as SimulatedAnswer) }),
          })
          shells.set(shell.shellId, shell)
          const r = await shell.create(req, address)
          if (r.kind === 'fault') {
            shells.delete(shell.shellId)
            await shell.destroy()
          }
          return r
        }
        const shell = new WinRsShell(uri, { owner, clientIp, operationTimeoutCapMs: cap, onGone: gone })
        const r = shell.create(req, address)
        if (r.kind === 'ok') shells.set(shell.shellId, shell)
        return r
      }
      if (!isShellAction(req.action)) return { kind: 'fault', fault: Faults.actionNotSupported(req.action) }
      const shell = selected()
      if (shell === undefined || shell instanceof PsrpShell !== psrp)
        return { kind: 'fault', fault: Faults.unknownShell() }
      return shell.handle(req)
    }
    if (uri === ResourceUri.Shell) {
      if (req.action === WSManAction.Enumerate) {
        const filter = selectorFilter(req)
        const items = [...shells.values()]
          .filter((s) => filter === undefined || filter.toUpperCase() === s.shellId)
          .map((s) => shellDescription(s.facts(), true))
        return enumerateResponse(items)
      }
      if (req.action === WSManAction.Get) {
        const shell = selected()
        if (shell === undefined) return { kind: 'fault', fault: Faults.unknownShell() }
        return {
          kind: 'ok',
          action: WSManAction.GetResponse,
          body: shellDescription(shell.facts(), true),
        }
      }
      if (req.action === WSManAction.Delete) {
        const shell = selected()
        if (shell === undefined) return { kind: 'fault', fault: Faults.unknownShell() }
        return shell.delete()
      }
      return { kind: 'fault', fault: Faults.actionNotSupported(req.action) }
    }
    if (uri === ResourceUri.ShellCommand) {
      if (req.action !== WSManAction.Enumerate)
        return { kind: 'fault', fault: Faults.actionNotSupported(req.action) }
      const id = selectorFilter(req)
      const shell = id === undefined ? undefined : shells.get(id.toUpperCase())
      const items = (shell?.commandIds ?? []).map((c) =>
        el('rsp:Command', { 'xmlns:rsp': Namespace.rsp }, el('rsp:CommandId', undefined, c)),
      )
      return enumerateResponse(items)
    }
    if (uri === ResourceUri.Config && req.action === WSManAction.Get) {
      return {
        kind: 'ok',
        action: WSManAction.GetResponse,
        body: configBody(maxEnvelope, cap),
      }
    }
    if (options.cim?.handles(uri) === true) return options.cim.handle(req)
    return { kind: 'fault', fault: Faults.unknownResource(uri) }
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    let size = 0
    let tooBig = false
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > maxEnvelope + 64 * 1024) tooBig = true
      if (!tooBig) chunks.push(c)
    })
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks)
        // a Send's payload is decoded from the bytes as the client decodes Receive output
        const lifted = liftStreams(raw, (b) =>
          Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'),
        )
        const text = lifted?.text ?? raw.toString('utf8')
        const actionGuess = /<(?:\w+:)?Action[^>]*>([^<]*)</.exec(text)?.[1]?.trim() ?? ''
        const path = (req.url ?? '').split('?')[0]
        if (path?.toLowerCase() !== '/wsman') {
          record(actionGuess, 404)
          res.writeHead(404, { 'Content-Length': 0, Server: 'Microsoft-HTTPAPI/2.0' }).end()
          return
        }
        if (!authorized(req)) {
          record(actionGuess, 401)
          res
            .writeHead(401, {
              'WWW-Authenticate': 'Basic realm="WSMAN"',
              'Content-Length': 0,
              Server: 'Microsoft-HTTPAPI/2.0',
            })
            .end()
          return
        }
        if (req.method !== 'POST') {
          record(actionGuess, 405)
          res.writeHead(405, { Allow: 'POST', 'Content-Length': 0, Server: 'Microsoft-HTTPAPI/2.0' }).end()
          return
        }
        if (!/application\/soap\+xml/i.test(req.headers['content-type'] ?? '')) {
          record(actionGuess, 415)
          res.writeHead(415, { 'Content-Length': 0, Server: 'Microsoft-HTTPAPI/2.0' }).end()
          return
        }
        const relatesToGuess = /<(?:\w+:)?MessageID[^>]*>([^<]*)</.exec(text)?.[1]?.trim() ?? ''
        if (tooBig || size > maxEnvelope) {
          send(res, 500, faultEnvelope(relatesToGuess, Faults.encodingLimit(size, maxEnvelope)), actionGuess)
          return
        }
        let parsed: SoapRequest
        try {
          parsed = parseLiftedRequest(raw, lifted)
        } catch (e) {
          const why = e instanceof BadRequestError ? e.message : String(e)
          send(res, 500, faultEnvelope(relatesToGuess, Faults.badRequest(why)), actionGuess)
          return
        }
        if (parsed.maxEnvelopeSize !== undefined && parsed.maxEnvelopeSize < 8192) {
          send(
            res,
            500,
            faultEnvelope(parsed.messageId, minimumEnvelope(parsed.maxEnvelopeSize)),
            parsed.action,
          )
          return
        }
        const hungUp = new AbortController()
        res.once('close', () => {
          if (!res.writableEnded) hungUp.abort()
        })
        parsed = { ...parsed, cancelled: hungUp.signal }
        let result: OpResult
        try {
          result = await dispatch(parsed, req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1')
        } catch (e) {
          result = { kind: 'fault', fault: Faults.providerFailure(`bridge error: ${(e as Error).message}`) }
        }
        const out = render(result, parsed.messageId)
        send(res, out.status, out.body, parsed.action)
      })()
    })
  }

  const server: Server =
    options.https === undefined
      ? createHttpServer({ keepAlive: true }, handler)
      : createHttpsServer({ key: options.https.key, cert: options.https.cert, keepAlive: true }, handler)
  server.keepAliveTimeout = 120_000
  server.requestTimeout = 0
  server.headersTimeout = 60_000
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port

  let closed: Promise<void> | undefined
  return {
    url: `${scheme}://127.0.0.1:${port}/wsman`,
    port,
    requests,
    shells: () => shells.size,
    pwshPid: (id) => {
      const s = shells.get(id.toUpperCase())
      return s instanceof PsrpShell ? s.pid : undefined
    },
    close: () => {
      closed ??= (async () => {
        const all = [...shells.values()]
        shells.clear()
        await Promise.all(all.map((s) => (s instanceof PsrpShell ? s.destroy() : s.destroy())))
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          for (const s of sockets) s.destroy()
        })
      })()
      return closed
    },
  }
}

/** The namespaces Windows declares on each kind of response (pypsrp recordings). */
const RESPONSE_PREFIXES: Readonly<Record<string, readonly ('s' | 'a' | 'x' | 'n' | 'w' | 'rsp' | 'p')[]>> = {
  [WSManAction.ReceiveResponse]: ['s', 'a', 'w', 'rsp', 'p'],
  [WSManAction.DeleteResponse]: ['s', 'a', 'w', 'p'],
  [WSManAction.DisconnectResponse]: ['s', 'a', 'w', 'p'],
  [WSManAction.ReconnectResponse]: ['s', 'a', 'w', 'p'],
  [WSManAction.GetResponse]: ['s', 'a', 'x', 'w', 'p'],
  [WSManAction.EnumerateResponse]: ['s', 'a', 'n', 'w', 'p'],
}

function isShellAction(action: string): boolean {
  return (
    [
      WSManAction.Command,
      WSManAction.Send,
      WSManAction.Receive,
      WSManAction.Signal,
      WSManAction.Delete,
      WSManAction.Disconnect,
      WSManAction.Reconnect,
      WSManAction.Connect,
    ] as string[]
  ).includes(action)
}

/** The ShellId of a DSP0226 selector filter in an Enumerate, if any. */
function selectorFilter(req: SoapRequest): string | undefined {
  const filter = nsChild(req.body, Namespace.wsman, 'Filter')
  if (filter === undefined || nsAttr(filter, 'Dialect') !== SELECTOR_FILTER_DIALECT) return undefined
  const sel = nsChildren(nsChild(filter, Namespace.wsman, 'SelectorSet'), Namespace.wsman, 'Selector').find(
    (s) => nsAttr(s, 'Name') === 'ShellId',
  )
  return sel?.text.trim()
}

/** An optimized EnumerateResponse with every item and EndOfSequence (test_psrp_disconnect_runspaces.yml). */
function enumerateResponse(items: XmlChild[]): OpResult {
  return {
    kind: 'ok',
    action: WSManAction.EnumerateResponse,
    body: el(
      'n:EnumerateResponse',
      undefined,
      el('n:EnumerationContext'),
      items.length > 0 && el('w:Items', undefined, ...items),
      el('w:EndOfSequence'),
    ),
  }
}

function alreadyExists(): FaultSpec {
  return {
    code: 'Sender',
    subcode: 'w:AlreadyExists',
    reason: 'The WS-Management service cannot create the resource because it already exists. ',
    wsmanCode: 2150858803,
    message: 'The WS-Management service cannot create the resource because it already exists. ',
  }
}

function minimumEnvelope(size: number): FaultSpec {
  return {
    code: 'Sender',
    subcode: 'w:EncodingLimit',
    reason:
      'The WS-Management service cannot process the request because the encoding of the request exceeds an internal encoding limit. ',
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MinimumEnvelopeLimit',
    wsmanCode: 2150858805,
    message: `The MaxEnvelopeSize of ${size} octets is below the minimum of 8192 octets. `,
  }
}

/** A trimmed `cfg:Config` (test_wsman_update_envelope_size_*.yml). */
function configBody(maxEnvelope: number, capMs: number): XmlChild {
  const c = (name: string, value: string): XmlChild => el(`cfg:${name}`, undefined, value)
  return el(
    'cfg:Config',
    { 'xmlns:cfg': 'http://schemas.microsoft.com/wbem/wsman/1/config' },
    c('MaxEnvelopeSizekb', String(Math.floor(maxEnvelope / 1024))),
    c('MaxTimeoutms', String(capMs)),
    c('MaxBatchItems', '32000'),
    c('MaxProviderRequests', '4294967295'),
  )
}
