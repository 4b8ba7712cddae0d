/**
 * WinRM endpoints that authenticate with implementations that are not ours, for end-to-end tests:
 * the WinRM bridge (real pwsh, no authentication of its own) behind the project's auth proxy
 * (test/peers/auth: gss-ntlmssp's NTLM acceptor through python3-gssapi), and, for Kerberos, a
 * throwaway MIT KDC whose service keytab the proxy's MIT acceptor uses.
 *
 * ```ts
 * const skip = kerberosFrontSkip(pwsh)
 * const front = await startKerberosFront(pwsh)   // alice@<realm>, password front.kdc.password
 * // new WSManConnection({ server: '127.0.0.1', port: front.peer.port, auth: 'kerberos', … })
 * await front.close()
 * ```
 */
import type { WSManConnectionOptions } from '../../src/index.ts'
import { startWinRMBridge, type WinRMBridge } from './winrm-bridge/index.ts'
import { peerSkip, pwshSkip } from './peers.ts'
import {
  ntlmPeerAvailable,
  startNtlmPeer,
  type NtlmPeer,
  type NtlmPeerUser,
} from '../peers/auth/ntlm-peer.ts'
import { kdcAvailable, startKdc, type KdcPeer } from '../peers/kdc/kdc.ts'

/** A bridge and the auth proxy in front of it. */
export interface AuthFront {
  /** The WinRM bridge the proxy forwards to. */
  readonly bridge: WinRMBridge
  /** The authenticating proxy the client talks to (`peer.port` on 127.0.0.1). */
  readonly peer: NtlmPeer
  /** Stops the proxy, then the bridge. */
  close(): Promise<void>
}

/** An {@link AuthFront} that also accepts Kerberos tickets of its KDC. */
export interface KerberosFront extends AuthFront {
  /** The KDC of the realm; user `alice` has the password `kdc.password`. */
  readonly kdc: KdcPeer
}

/**
 * Where and how a test client reaches an auth peer: 127.0.0.1 at its port, TLS when it serves https,
 * short timeouts and no retries (a test wants a refusal at once); the caller adds auth and credentials.
 */
export function peerEndpoint(
  peer: Pick<NtlmPeer, 'port' | 'url'>,
): Pick<
  WSManConnectionOptions,
  'server' | 'port' | 'ssl' | 'operationTimeout' | 'connectTimeout' | 'readTimeout' | 'retries'
> {
  return {
    server: '127.0.0.1',
    port: peer.port,
    ssl: peer.url.startsWith('https:'),
    operationTimeout: 5,
    connectTimeout: 5000,
    readTimeout: 20_000,
    retries: { count: 0 },
  }
}

/** {@link peerSkip} for {@link startNtlmFront}: pwsh and the gss-ntlmssp acceptor. */
export function ntlmFrontSkip(pwsh: string | undefined): string | false {
  return (
    pwshSkip(pwsh) ||
    peerSkip('gss-ntlmssp NTLM peer', ntlmPeerAvailable(), 'apt-get install gss-ntlmssp python3-gssapi')
  )
}

/** {@link peerSkip} for {@link startKerberosFront}: pwsh, the MIT KDC and the acceptor. */
export function kerberosFrontSkip(pwsh: string | undefined): string | false {
  return (
    pwshSkip(pwsh) ||
    peerSkip('MIT KDC', kdcAvailable(), 'apt-get install krb5-kdc krb5-admin-server krb5-user') ||
    peerSkip(
      'python3-gssapi + gss-ntlmssp acceptor',
      ntlmPeerAvailable(),
      'apt-get install gss-ntlmssp python3-gssapi',
    )
  )
}

/** Starts the bridge on `pwsh` and the NTLM proxy in front of it, knowing `users`. */
export async function startNtlmFront(pwsh: string, users: readonly NtlmPeerUser[]): Promise<AuthFront> {
  const bridge = await startWinRMBridge({ pwsh })
  try {
    const peer = await startNtlmPeer({ upstream: bridge.url, users })
    return { bridge, peer, close: () => closeFront(peer, bridge) }
  } catch (e) {
    await bridge.close()
    throw e
  }
}

/**
 * Starts a KDC, the bridge on `pwsh` and the proxy with the realm's service keytab. The proxy's NTLM
 * acceptor knows `LAB\alice` with the realm password (so Negotiate can fall back for her) and
 * `ntlmUsers`.
 */
export async function startKerberosFront(
  pwsh: string,
  ntlmUsers: readonly NtlmPeerUser[] = [],
): Promise<KerberosFront> {
  const kdc = await startKdc()
  let bridge: WinRMBridge | undefined
  try {
    bridge = await startWinRMBridge({ pwsh })
    const peer = await startNtlmPeer({
      upstream: bridge.url,
      users: [{ domain: 'LAB', user: 'alice', password: kdc.password }, ...ntlmUsers],
      krb5: { config: kdc.krb5ConfPath, keytab: kdc.serviceKeytab },
    })
    const started = bridge
    return {
      kdc,
      bridge,
      peer,
      close: async () => {
        await closeFront(peer, started)
        await kdc.close()
      },
    }
  } catch (e) {
    await bridge?.close()
    await kdc.close()
    throw e
  }
}

async function closeFront(peer: NtlmPeer, bridge: WinRMBridge): Promise<void> {
  try {
    await peer.close()
  } finally {
    await bridge.close()
  }
}
