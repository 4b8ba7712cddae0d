/**
 * A minimal in-memory PSRP **server** for pair tests of the sans-IO client core (psrpcore-style
 * `get_runspace_pair`). It is built on the same wire and message codecs as the client: it
 * defragments what the client sends, decodes every message to typed fields, and encodes and
 * fragments its own answers. Like PowerShell, it fragments the pool's messages and each pipeline's
 * messages with separate ObjectId counters (all start at 1), so the client must defragment per
 * target.
 *
 * By default it answers the open handshake (SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA,
 * RUNSPACEPOOL_STATE Opened) and the key exchange (PUBLIC_KEY → ENCRYPTED_SESSION_KEY with a fixed
 * AES key); everything else is scripted by the test through the `send…` methods.
 */
import { constants, createPublicKey, publicEncrypt } from 'node:crypto'
import {
  AesSessionCipher,
  Defragmenter,
  decodeMessage,
  decodeMessageBody,
  encodeFragment,
  encodeMessage,
  encodeMessageBody,
  Fragmenter,
  MessageType,
  NIL_GUID,
  plaintextSecureStringCipher,
  swapGuidByteOrder,
  type ClientRunspacePool,
  type DecodedMessageBody,
  type MessageFieldsMap,
  type MessageTypeName,
  type PsrpEvent,
  type PsrpPayload,
} from '../../src/psrp/index.ts'
import { ErrorRecord, type SecureStringCipher } from '../../src/clixml/index.ts'

/** A message the server received, decoded. */
export interface ReceivedMessage {
  /** Message type name. */
  readonly type: MessageTypeName
  /** Decoded typed fields (`fields` of {@link DecodedMessageBody}). */
  readonly decoded: DecodedMessageBody
  /** RPID from the header. */
  readonly rpid: string
  /** PID from the header (nil for pool messages). */
  readonly pid: string
  /** The target the transport delivered it for (undefined: the pool). */
  readonly pipelineId: string | undefined
  /** The stream it came on. */
  readonly stream: 'default' | 'promptResponse'
  /** The raw CLIXML body. */
  readonly body: string
}

/** Options of {@link PsrpTestServer}. */
export interface PsrpTestServerOptions {
  /** Version the server answers in SESSION_CAPABILITY (default: echo the client's, like PowerShell up to 2.3). */
  protocolVersion?: string
  /** Answer the open handshake automatically (default true). */
  autoOpen?: boolean
  /** Answer PUBLIC_KEY automatically with ENCRYPTED_SESSION_KEY (default true). */
  autoKeyExchange?: boolean
  /** The AES session key the server hands out (default bytes 1..32). */
  sessionKey?: Uint8Array
  /** Write PIDs/RPIDs in RFC 4122 byte order, as old pypsrp recordings do (default false). */
  swapGuidByteOrder?: boolean
  /** The application private data sent on open. */
  applicationPrivateData?: Map<unknown, unknown>
}

/** The default fixed session key (1, 2, … 32). */
export const TEST_SESSION_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1)

/** Deterministic "random" bytes for PKCS#1 v1.5 padding (never zero). */
function padding(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i % 255) + 1)
}

/** Server side of the key exchange: the SIMPLEBLOB for a client's PUBLICKEYBLOB. */
export function serverEncryptSessionKey(publicKeyBlob: string, sessionKey: Uint8Array): string {
  const blob = Buffer.from(publicKeyBlob, 'base64')
  if (
    blob[0] !== 0x06 ||
    blob[1] !== 0x02 ||
    blob.readUInt32LE(4) !== 0xa400 ||
    blob.readUInt32LE(8) !== 0x31415352
  ) {
    throw new Error('PUBLIC_KEY is not an RSA PUBLICKEYBLOB')
  }
  const bits = blob.readUInt32LE(12)
  const exponent = blob.readUInt32LE(16)
  const modulus = Buffer.from(blob.subarray(20, 20 + bits / 8)).reverse()
  const e = Buffer.alloc(4)
  e.writeUInt32BE(exponent)
  let i = 0
  while (i < 3 && e[i] === 0) i++
  const key = createPublicKey({
    key: { kty: 'RSA', n: modulus.toString('base64url'), e: e.subarray(i).toString('base64url') },
    format: 'jwk',
  })
  // PKCS#1 v1.5 type 2 block with deterministic nonzero padding, then raw RSA
  const k = bits / 8
  const block = Buffer.alloc(k)
  block[1] = 0x02
  Buffer.from(padding(k - 3 - sessionKey.length)).copy(block, 2)
  block[k - sessionKey.length - 1] = 0
  Buffer.from(sessionKey).copy(block, k - sessionKey.length)
  const ciphertext = publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, block)
  const header = Buffer.alloc(12)
  header[0] = 0x01
  header[1] = 0x02
  header.writeUInt32LE(0x6610, 4)
  header.writeUInt32LE(0xa400, 8)
  return Buffer.concat([header, Buffer.from(ciphertext).reverse()]).toString('base64')
}

interface Outgoing {
  pipelineId: string | undefined
  bytes: Uint8Array
}

/** The in-memory PSRP server. */
export class PsrpTestServer {
  /** The pool id, learned from the first message. */
  rpid: string | undefined
  /** The client's announced protocol version. */
  clientVersion: string | undefined
  /** Every message received, in order. */
  readonly received: ReceivedMessage[] = []
  /** The cipher for `<SS>`, once established. */
  cipher: SecureStringCipher | undefined
  /** Payload sizes of every client payload received (to check fragmentation limits). */
  readonly payloadSizes: number[] = []
  /** Every fragment header received: ObjectId, FragmentId, start, end, and the target. */
  readonly fragments: {
    objectId: bigint
    fragmentId: bigint
    start: boolean
    end: boolean
    pipelineId: string | undefined
  }[] = []
  readonly #options: PsrpTestServerOptions
  readonly #defragmenters = new Map<string, Defragmenter>()
  readonly #fragmenters = new Map<string, Fragmenter>()
  readonly #outgoing: Outgoing[] = []

  constructor(options: PsrpTestServerOptions = {}) {
    this.#options = options
  }

  /** The version this server speaks: the configured one, else the client's. */
  get protocolVersion(): string {
    return this.#options.protocolVersion ?? this.clientVersion ?? '2.3'
  }

  /** Received messages of one type. */
  messages<K extends MessageTypeName>(type: K): (ReceivedMessage & { fields: MessageFieldsMap[K] })[] {
    return this.received
      .filter((m) => m.type === type)
      .map((m) => ({ ...m, fields: m.decoded.fields as MessageFieldsMap[K] }))
  }

  /** The last received message of a type, or throws. */
  last<K extends MessageTypeName>(type: K): ReceivedMessage & { fields: MessageFieldsMap[K] } {
    const all = this.messages(type)
    const m = all[all.length - 1]
    if (m === undefined) throw new Error(`the server received no ${type}`)
    return m
  }

  /** Takes one client payload; returns the messages it completed. */
  receive(payload: PsrpPayload): ReceivedMessage[] {
    this.payloadSizes.push(payload.data.length)
    // record fragment headers (the payload holds whole fragments)
    let off = 0
    const view = new DataView(payload.data.buffer, payload.data.byteOffset, payload.data.byteLength)
    while (off + 21 <= payload.data.length) {
      const flags = payload.data[off + 16] as number
      this.fragments.push({
        objectId: view.getBigUint64(off),
        fragmentId: view.getBigUint64(off + 8),
        start: (flags & 1) !== 0,
        end: (flags & 2) !== 0,
        pipelineId: payload.pipelineId,
      })
      off += 21 + view.getUint32(off + 17)
    }
    const key = `${payload.pipelineId ?? NIL_GUID}/${payload.stream}`
    let d = this.#defragmenters.get(key)
    if (d === undefined) this.#defragmenters.set(key, (d = new Defragmenter()))
    const out: ReceivedMessage[] = []
    for (const raw of d.push(payload.data)) {
      const msg = decodeMessage(raw)
      if (msg.destination !== 'server')
        throw new Error(`message for the client sent to the server: ${msg.typeName}`)
      this.rpid ??= msg.rpid
      const decoded = decodeMessageBody(
        msg.type,
        msg.data,
        this.cipher === undefined ? {} : { cipher: this.cipher },
      )
      const m: ReceivedMessage = {
        type: decoded.type,
        decoded,
        rpid: msg.rpid,
        pid: msg.pid,
        pipelineId: payload.pipelineId,
        stream: payload.stream,
        body: msg.data,
      }
      this.received.push(m)
      out.push(m)
      this.#react(m)
    }
    return out
  }

  #react(m: ReceivedMessage): void {
    const d = m.decoded
    if (d.type === 'SESSION_CAPABILITY') {
      this.clientVersion = d.fields.protocolVersion
      if (this.#options.autoOpen !== false) {
        this.send('SESSION_CAPABILITY', {
          protocolVersion: this.protocolVersion,
          psVersion: '2.0',
          serializationVersion: '1.1.0.1',
        })
      }
      if (bothAtLeast24(this.protocolVersion, this.clientVersion)) this.cipher = plaintextSecureStringCipher
    } else if (d.type === 'INIT_RUNSPACEPOOL' && this.#options.autoOpen !== false) {
      this.send('APPLICATION_PRIVATE_DATA', {
        applicationPrivateData:
          this.#options.applicationPrivateData ??
          new Map([
            [
              'PSVersionTable',
              new Map<unknown, unknown>([['PSRemotingProtocolVersion', this.protocolVersion]]),
            ],
          ]),
      })
      this.sendPoolState('Opened')
    } else if (d.type === 'PUBLIC_KEY' && this.#options.autoKeyExchange !== false) {
      const key = this.#options.sessionKey ?? TEST_SESSION_KEY
      this.send('ENCRYPTED_SESSION_KEY', {
        encryptedSessionKey: serverEncryptSessionKey(d.fields.publicKey, key),
      })
      this.cipher = new AesSessionCipher(key)
    }
  }

  /** Queues a message for the client (pool message when `pipelineId` is undefined). */
  send<K extends MessageTypeName>(type: K, fields: MessageFieldsMap[K], pipelineId?: string): void {
    const rpid = this.rpid ?? NIL_GUID
    const swap = this.#options.swapGuidByteOrder === true
    const data = encodeMessageBody(type, fields, this.cipher === undefined ? {} : { cipher: this.cipher })
    const message = encodeMessage({
      destination: 'client',
      type: MessageType[type],
      rpid: swap ? swapGuidByteOrder(rpid) : rpid,
      pid: pipelineId === undefined ? NIL_GUID : swap ? swapGuidByteOrder(pipelineId) : pipelineId,
      data,
      bom: true,
    })
    this.#outgoing.push({ pipelineId, bytes: message })
  }

  /** Queues RUNSPACEPOOL_STATE. */
  sendPoolState(state: 'Opened' | 'Closed' | 'Closing' | 'Broken' | 'Opening', error?: ErrorRecord): void {
    const values = { Opening: 1, Opened: 2, Closed: 3, Closing: 4, Broken: 5 }
    this.send('RUNSPACEPOOL_STATE', { state: values[state], ...(error === undefined ? {} : { error }) })
  }

  /** Queues PIPELINE_STATE. */
  sendPipelineState(
    pipelineId: string,
    state: 'Completed' | 'Failed' | 'Stopped' | 'Running',
    error?: ErrorRecord,
  ): void {
    const values = { Running: 1, Stopped: 3, Completed: 4, Failed: 5 }
    this.send(
      'PIPELINE_STATE',
      { state: values[state], ...(error === undefined ? {} : { error }) },
      pipelineId,
    )
  }

  /** True when the server has something queued. */
  get hasOutput(): boolean {
    return this.#outgoing.length > 0
  }

  /**
   * Fragments every queued message and returns one chunk of bytes per target, in queue order,
   * with fragments at most `maxFragmentSize` bytes.
   */
  take(maxFragmentSize = 32768): { pipelineId: string | undefined; data: Uint8Array }[] {
    const groups: { pipelineId: string | undefined; parts: Uint8Array[] }[] = []
    for (const o of this.#outgoing.splice(0)) {
      const key = o.pipelineId ?? NIL_GUID
      let f = this.#fragmenters.get(key)
      if (f === undefined) this.#fragmenters.set(key, (f = new Fragmenter()))
      const parts = f.fragment(o.bytes, maxFragmentSize).map(encodeFragment)
      const prev = groups[groups.length - 1]
      if (prev !== undefined && prev.pipelineId === o.pipelineId) prev.parts.push(...parts)
      else groups.push({ pipelineId: o.pipelineId, parts })
    }
    return groups.map((g) => ({ pipelineId: g.pipelineId, data: new Uint8Array(Buffer.concat(g.parts)) }))
  }
}

function bothAtLeast24(a: string, b: string | undefined): boolean {
  const ge = (v: string | undefined): boolean => {
    if (v === undefined) return false
    const [maj, min] = v.split('.').map(Number) as [number, number]
    return maj > 2 || (maj === 2 && min >= 4)
  }
  return ge(a) && ge(b)
}

/** Options of {@link pump}. */
export interface PumpOptions {
  /** Fragment size the client uses (default 32768). */
  clientFragmentSize?: number
  /** Fragment size the server uses (default 32768). */
  serverFragmentSize?: number
  /** Feed server bytes to the client in chunks of this many bytes (default: whole). */
  chunkSize?: number
}

/**
 * Moves data both ways until neither side has anything to send; returns the client's events in order.
 */
export function pump(
  client: ClientRunspacePool,
  server: PsrpTestServer,
  options: PumpOptions = {},
): PsrpEvent[] {
  const events: PsrpEvent[] = []
  for (let rounds = 0; rounds < 1000; rounds++) {
    let moved = false
    for (
      let p = client.dataToSend(options.clientFragmentSize ?? 32768);
      p !== undefined;
      p = client.dataToSend(options.clientFragmentSize ?? 32768)
    ) {
      server.receive(p)
      moved = true
    }
    for (const chunk of server.take(options.serverFragmentSize ?? 32768)) {
      moved = true
      const size = options.chunkSize ?? chunk.data.length
      for (let i = 0; i < chunk.data.length; i += size) {
        client.receiveData(chunk.data.subarray(i, i + size), chunk.pipelineId)
      }
    }
    for (let e = client.nextEvent(); e !== undefined; e = client.nextEvent()) events.push(e)
    if (!moved) return events
  }
  throw new Error('pump did not settle')
}

/** Creates a client pool and server, and opens the pool. */
export function openPair(
  make: () => ClientRunspacePool,
  serverOptions: PsrpTestServerOptions = {},
): { client: ClientRunspacePool; server: PsrpTestServer; events: PsrpEvent[] } {
  const client = make()
  const server = new PsrpTestServer(serverOptions)
  client.open()
  const events = pump(client, server)
  return { client, server, events }
}

/** A sequential GUID source for deterministic ids. */
export function sequentialGuids(prefix = 'aaaaaaaa'): () => string {
  let n = 0
  return () => `${prefix}-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`
}

/** An ErrorRecord for tests. */
export function testError(message: string, id = 'TestError'): ErrorRecord {
  return ErrorRecord.create({ message, fullyQualifiedErrorId: id })
}
