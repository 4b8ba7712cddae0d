/**
 * The trace attributes that name the peer of a runspace pool (`server.address`, `server.port`,
 * `psrp.transport`), read from the connection the pool was opened on, so the pool's and its
 * pipelines' spans say which host they ran on. Only the host and port are read, never credentials.
 *
 * @module
 */
import type { Attributes } from '@opentelemetry/api'
import { Attr, hostAttributes } from '../internal/telemetry.ts'
import { NamedPipeConnection } from '../transport/named-pipe.ts'
import { ProcessConnection } from '../transport/process.ts'
import { SSHConnection } from '../transport/ssh.ts'
import { WSManConnection } from '../transport/wsman-connection.ts'

/** `server.address`, `server.port` and `psrp.transport` of a pool's connection (empty when unknown). */
export function connectionAttributes(connection: unknown): Attributes {
  if (connection instanceof WSManConnection) {
    const url = new URL(connection.http.url)
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
    return { ...hostAttributes(host, port), [Attr.transport]: 'wsman' }
  }
  if (connection instanceof SSHConnection) {
    const { host, port } = connection.info
    return { ...hostAttributes(host, port ?? 22), [Attr.transport]: 'ssh' }
  }
  if (connection instanceof ProcessConnection) return { [Attr.transport]: 'process' }
  if (connection instanceof NamedPipeConnection) return { [Attr.transport]: 'named-pipe' }
  return {}
}
