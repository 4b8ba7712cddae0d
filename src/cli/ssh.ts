/**
 * `--ssh`: builds the {@link SSHConnectionOptions} of the CLI's SSH flags and opens the connection,
 * asking for what is missing the way `ssh` does: the passphrase of an encrypted `-i` key
 * (`PSRP_SSH_PASSPHRASE`, else a prompt), and a password when the keys and the agent are refused
 * (`PSRP_PASSWORD`, else a prompt). Host keys are always verified; an unknown key is an error naming
 * its fingerprint and the flags that would accept it.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import {
  AuthenticationError,
  HostKeyVerificationError,
  SSHConnection,
  type SSHConnectionOptions,
} from '../index.ts'
import { UsageError, type ConnectionSpec } from './args.ts'
import { sshNoPasswordToOffer } from './messages.ts'
import { readSecret, type TerminalInput, type TerminalOutput } from './terminal.ts'

/** The SSH part of a {@link ConnectionSpec}. */
export type SshSpec = Extract<ConnectionSpec, { kind: 'ssh' }>

/** Where the SSH login reads secrets and the environment. */
export interface SshIO {
  readonly env: NodeJS.ProcessEnv
  readonly input: TerminalInput
  readonly error: TerminalOutput
}

const OPENSSH_MAGIC = 'openssh-key-v1\0'

/**
 * True when a private key file's text is protected by a passphrase: an OpenSSH key whose cipher is
 * not `none`, a PEM key with `Proc-Type: 4,ENCRYPTED`, or PKCS#8 `ENCRYPTED PRIVATE KEY`.
 */
export function privateKeyIsEncrypted(data: string | Uint8Array): boolean {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1')
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) return true
  if (/^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text)) return true
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text)
  if (m === null) return false
  const blob = Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64')
  if (blob.subarray(0, OPENSSH_MAGIC.length).toString('latin1') !== OPENSSH_MAGIC) return false
  const at = OPENSSH_MAGIC.length
  if (blob.length < at + 4) return false
  const len = blob.readUInt32BE(at)
  const cipher = blob.subarray(at + 4, at + 4 + len).toString('latin1')
  return cipher !== 'none'
}

function readFlagFile(command: string, flag: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (e) {
    throw new UsageError(command, `--${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
}

/** `user@host` (or just the host) for prompts. */
function who(spec: SshSpec): string {
  return spec.username === undefined ? spec.host : `${spec.username}@${spec.host}`
}

/**
 * The {@link SSHConnectionOptions} of `spec`: reads the `-i` key (asking for its passphrase when it
 * is encrypted and `PSRP_SSH_PASSPHRASE` is not set), offers `password` (or `PSRP_PASSWORD`) for
 * password and keyboard-interactive logins, keeps the agent in play next to explicit credentials, and
 * picks the host key policy (`--known-hosts`, `--host-key`, else the user's known_hosts files).
 */
export async function sshConnectionOptions(
  command: string,
  spec: SshSpec,
  io: SshIO,
  password?: string,
): Promise<SSHConnectionOptions> {
  let key: { privateKey: Buffer; passphrase?: string } | undefined
  if (spec.identityFile !== undefined) {
    const privateKey = readFlagFile(command, 'identity', spec.identityFile)
    let passphrase = io.env['PSRP_SSH_PASSPHRASE']
    if (passphrase === undefined && privateKeyIsEncrypted(privateKey)) {
      if (io.input.isTTY !== true)
        throw new UsageError(
          command,
          `the key ${spec.identityFile} is encrypted: set PSRP_SSH_PASSPHRASE (stdin is not a terminal to ask on)`,
        )
      passphrase = await readSecret(`Enter passphrase for key '${spec.identityFile}': `, io.input, io.error)
    }
    key = { privateKey, ...(passphrase === undefined ? {} : { passphrase }) }
  }
  if (spec.knownHostsFile !== undefined) readFlagFile(command, 'known-hosts', spec.knownHostsFile)
  const pw = password ?? io.env['PSRP_PASSWORD']
  const agentSocket = io.env['SSH_AUTH_SOCK']
  const hasAgent = agentSocket !== undefined && agentSocket !== ''
  return {
    host: spec.host,
    ...(spec.port === undefined ? {} : { port: spec.port }),
    ...(spec.username === undefined ? {} : { username: spec.username }),
    ...(key ?? {}),
    ...(pw === undefined ? {} : { password: pw, keyboardInteractive: true }),
    // with a key or password given the library would skip the agent; ssh tries it too
    ...(hasAgent && (key !== undefined || pw !== undefined) ? { agent: agentSocket } : {}),
    ...(!hasAgent ? { agent: false } : {}),
    ...(spec.knownHostsFile !== undefined
      ? { hostKey: { knownHosts: spec.knownHostsFile } }
      : spec.hostKeyFingerprint !== undefined
        ? { hostKey: { fingerprint: spec.hostKeyFingerprint } }
        : {}),
    ...(spec.subsystem === undefined ? {} : { subsystem: spec.subsystem }),
    ...(spec.timeoutMs === undefined ? {} : { connectTimeout: spec.timeoutMs }),
  }
}

/**
 * The host key error with the CLI's advice: for an unknown key, how to add it (`ssh-keyscan`),
 * `--known-hosts <file>` or `--host-key <fingerprint>` instead of the library's option names.
 */
export function withHostKeyHint(e: HostKeyVerificationError): HostKeyVerificationError {
  if (e.problem !== 'unknown') return e
  const fp = e.hostKey.fingerprint
  const base = e.message.replace(/ or pass hostKey: \{[^}]*\}\s*$/, '').replace(/[.,;]?\s*$/, '')
  const message =
    `${base}, give such a file with --known-hosts <file>, or pin the key with --host-key ${fp}. ` +
    'psrp never accepts an unknown host key by itself.'
  return new HostKeyVerificationError(message, e.problem, e.hostKey, e.knownHostsFiles, { cause: e })
}

/** How many times a prompted SSH password is asked for before the login fails (as ssh's default). */
export const PASSWORD_PROMPTS = 3

/**
 * Runs `open` on a new {@link SSHConnection} for `spec`. When the login is refused and no password
 * was offered, asks for one on the terminal (as `ssh` does once keys and agent fail) and tries again
 * on a fresh connection; a refused prompted password is asked for again, {@link PASSWORD_PROMPTS}
 * times in all. Without a terminal the error says to give `-i` or set `PSRP_PASSWORD`.
 */
export async function withSshConnection<T>(
  command: string,
  spec: SshSpec,
  io: SshIO,
  open: (connection: SSHConnection) => Promise<T>,
): Promise<T> {
  let password: string | undefined
  let prompts = 0
  for (;;) {
    const connection = new SSHConnection(await sshConnectionOptions(command, spec, io, password))
    try {
      return await open(connection)
    } catch (e) {
      if (e instanceof HostKeyVerificationError) throw withHostKeyHint(e)
      if (!(e instanceof AuthenticationError)) throw e
      // a PSRP_PASSWORD the server refused is not asked for again
      if (io.env['PSRP_PASSWORD'] !== undefined) throw e
      if (prompts >= PASSWORD_PROMPTS) throw e
      if (io.input.isTTY !== true) throw sshNoPasswordToOffer(e, spec)
      if (prompts > 0) io.error.write('Permission denied, please try again.\n')
      password = await readSecret(`${who(spec)}'s password: `, io.input, io.error)
      prompts++
    }
  }
}
