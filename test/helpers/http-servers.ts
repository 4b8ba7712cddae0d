/**
 * Real local peers for the HTTP transport tests: an HTTP(S) server on 127.0.0.1 that counts
 * connections and records requests, a tiny forward/CONNECT proxy, and test certificates generated with
 * the `openssl` CLI.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https'
import {
  connect as netConnect,
  createServer as createNetServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HttpAuthenticator } from '../../src/transport/http/index.ts'

/** One request seen by a {@link TestServer}. */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
  /** Index of the connection (0-based, in accept order) the request came on. */
  readonly connection: number
}

/** A running test server. */
export interface TestServer {
  readonly port: number
  /** Connections accepted so far. */
  readonly connections: number
  readonly requests: RecordedRequest[]
  close(): Promise<void>
}

/** A request handler; the body is read in full before it is called. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  record: RecordedRequest,
) => void

/** Starts an HTTP server (HTTPS when `tls` is given) on 127.0.0.1 with an ephemeral port. */
export async function startServer(handler: Handler, tls?: HttpsServerOptions): Promise<TestServer> {
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const record: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: connectionIds.get(req.socket) ?? -1,
      }
      requests.push(record)
      handler(req, res, record.body, record)
    })
  }
  const server = tls === undefined ? createHttpServer(listener) : createHttpsServer(tls, listener)
  server.keepAliveTimeout = 10_000
  const connectionIds = new WeakMap<object, number>()
  const requests: RecordedRequest[] = []
  let connections = 0
  server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    connectionIds.set(socket, connections++)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    get connections() {
      return connections
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Answers 200 with a SOAP-ish body echoing the request body. */
export function ok(res: ServerResponse, body = '<s:Envelope/>'): void {
  res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' })
  res.end(body)
}

/** A raw TCP server whose connection handler gets the socket (for malformed/abrupt peers). */
export async function startRawServer(
  onConnection: (socket: Socket, index: number) => void,
): Promise<{ port: number; readonly connections: number; close(): Promise<void> }> {
  let connections = 0
  const sockets = new Set<Socket>()
  const server: Server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    onConnection(socket, connections++)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A running test proxy. */
export interface TestProxy {
  readonly port: number
  readonly url: string
  /** `host:port` of every CONNECT tunnel opened. */
  readonly tunnels: string[]
  /** Absolute URIs of every forwarded plain-HTTP request. */
  readonly forwarded: string[]
  /** `Proxy-Authorization` values seen. */
  readonly proxyAuthorizations: string[]
  close(): Promise<void>
}

/** A tiny HTTP proxy: CONNECT tunnels and absolute-URI forwarding; 407 unless `requireAuth` matches. */
export async function startProxy(requireAuth?: string): Promise<TestProxy> {
  const tunnels: string[] = []
  const forwarded: string[] = []
  const proxyAuthorizations: string[] = []
  const sockets = new Set<Socket>()
  const authorized = (req: IncomingMessage): boolean => {
    const value = req.headers['proxy-authorization']
    if (value !== undefined) proxyAuthorizations.push(value)
    return requireAuth === undefined || value === requireAuth
  }
  const server = createHttpServer((req, res) => {
    if (!authorized(req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"' }).end()
      return
    }
    const url = new URL(req.url ?? '')
    forwarded.push(req.url ?? '')
    const headers = { ...req.headers }
    delete headers['proxy-authorization']
    const upstream = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (!authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n')
      return
    }
    tunnels.push(req.url ?? '')
    const [host, port] = (req.url ?? '').split(':')
    const upstream = netConnect({ host: host ?? '', port: Number(port) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    proxyAuthorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** An authenticator that sends no `Authorization` header (for transport-only tests). */
export const noAuth: HttpAuthenticator = {
  name: 'None',
  createSession: () => ({ authorize: () => undefined, challenge: () => undefined }),
}

/** PEM material generated by {@link makeCertificates}. */
export interface TestCertificates {
  /** Test CA certificate. */
  readonly ca: string
  /** Server certificate for 127.0.0.1/localhost signed by the CA, and its key. */
  readonly serverCert: string
  readonly serverKey: string
  /** Client certificate (CN=alice, clientAuth) signed by the CA, and its key (encrypted with `passphrase`). */
  readonly clientCert: string
  readonly clientKey: string
  readonly clientKeyPassphrase: string
  /** Self-signed server certificate for 127.0.0.1/localhost, and its key. */
  readonly selfSignedCert: string
  readonly selfSignedKey: string
  /** Server certificate signed by the CA for `win1.example.com` only (host-name mismatch on 127.0.0.1). */
  readonly otherHostCert: string
  readonly otherHostKey: string
}

/** Generates the test PKI into a temporary folder with the `openssl` CLI (EC P-256 keys, 2 days). */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-http-certs-'))
  const run = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args[0] ?? ''} failed: ${r.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost'
  const passphrase = 'test-key-passphrase'
  try {
    run(
      'req',
      '-x509',
      ...ec,
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=psrp test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    )
    writeFileSync(join(dir, 'server.ext'), `${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`)
    run('req', ...ec, '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    )
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n')
    run(
      'req',
      ...ec,
      '-passout',
      `pass:${passphrase}`,
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      '/CN=alice',
    )
    run(
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'client.crt',
      '-days',
      '2',
      '-extfile',
      'client.ext',
    )
    writeFileSync(
      join(dir, 'other.ext'),
      'subjectAltName=DNS:win1.example.com\nextendedKeyUsage=serverAuth\n',
    )
    run('req', ...ec, '-nodes', '-keyout', 'other.key', '-out', 'other.csr', '-subj', '/CN=win1.example.com')
    run(
      'x509',
      '-req',
      '-in',
      'other.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'other.crt',
      '-days',
      '2',
      '-extfile',
      'other.ext',
    )
    run(
      'req',
      '-x509',
      ...ec,
      '-nodes',
      '-keyout',
      'self.key',
      '-out',
      'self.crt',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      san,
    )
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8')
    return {
      ca: read('ca.crt'),
      serverCert: read('server.crt'),
      serverKey: read('server.key'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
      clientKeyPassphrase: passphrase,
      selfSignedCert: read('self.crt'),
      selfSignedKey: read('self.key'),
      otherHostCert: read('other.crt'),
      otherHostKey: read('other.key'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
