/**
 * The connection flags every connecting `psrp` subcommand (`run`, `cmd`, `shell`, `copy`, `fetch`)
 * accepts — where to connect (`--host` WinRM, `--ssh`, `--pipe`, `--local`), WinRM's and SSH's own
 * flags — their help text, and the {@link ConnectionSpec} built from them, with every inconsistency
 * between flags a {@link UsageError}. Files named by flags are read later, by the command that runs.
 *
 * @module
 */
import { flagList, positiveNumber, str, UsageError, type OptionSpec } from './args-parser.ts'

/** Authentication names accepted by `--auth`. */
export const AUTH_METHODS = ['basic', 'certificate', 'negotiate', 'ntlm', 'kerberos', 'credssp'] as const
/** One of {@link AUTH_METHODS}. */
export type AuthMethod = (typeof AUTH_METHODS)[number]

/** Values accepted by `--encryption`. */
export const ENCRYPTION_MODES = ['auto', 'always', 'never'] as const

/** The flags every connecting subcommand accepts. */
export const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  host: { type: 'string', short: 'H' },
  ssh: { type: 'string' },
  pipe: { type: 'string' },
  local: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  ssl: { type: 'boolean' },
  auth: { type: 'string', short: 'a' },
  user: { type: 'string', short: 'u' },
  'configuration-name': { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  encryption: { type: 'string' },
  'allow-unencrypted': { type: 'boolean' },
  identity: { type: 'string', short: 'i' },
  'known-hosts': { type: 'string' },
  'host-key': { type: 'string' },
  subsystem: { type: 'string' },
  timeout: { type: 'string', short: 't' },
  help: { type: 'boolean', short: 'h' },
}

/** Help text of the connection flags (shared by every connecting subcommand's `--help`). */
export const CONNECTION_HELP = `connection (one of --host, --ssh, --pipe; default: a local pwsh, as with --local):
  -H, --host <name>        WinRM server
      --ssh [user@]host[:port]
                           PowerShell over SSH (the server's \`powershell\` subsystem)
      --pipe <pid|name|path>
                           attach to a running pwsh on this machine through its IPC pipe (as
                           Enter-PSHostProcess): a process id, a -CustomPipeName, or a socket path
      --local              a local \`pwsh -s\` (the default)
  -p, --port <n>           port (WinRM: default 5986 with --ssl, else 5985; SSH: default 22)
  -u, --user <name>        user name; the password comes from PSRP_PASSWORD or a prompt
  -t, --timeout <seconds>  time limit for connecting and for the command (shell: connecting)
  -h, --help               this help

WinRM (--host):
      --ssl                HTTPS (default plain HTTP with WinRM message encryption)
  -a, --auth <method>      basic | certificate | ntlm | negotiate | kerberos | credssp
                           (default: certificate with --cert, else negotiate)
      --configuration-name <name>
                           PowerShell endpoint (session configuration, e.g. a JEA endpoint)
  -k, --insecure           do not validate the server certificate (prints a warning)
      --ca <file>          trust the CA certificates in this PEM file
      --cert <file>        client certificate (PEM) for --auth certificate
      --key <file>         its private key (PEM); passphrase from PSRP_KEY_PASSPHRASE
      --encryption <mode>  auto | always | never: WinRM message encryption (default auto)
      --allow-unencrypted  allow credentials or SOAP in clear text over plain HTTP
                           (Basic over HTTP, --encryption never); prints a warning

SSH (--ssh); ~/.ssh/config (HostName, User, Port, IdentityFile, …) applies:
  -i, --identity <file>    private key; passphrase from PSRP_SSH_PASSPHRASE or a prompt.
                           Without it the ssh-agent (SSH_AUTH_SOCK) and ~/.ssh/id_* are tried.
                           PSRP_PASSWORD, if set, is offered as the password; else, when the keys
                           are refused, the password is asked for on the terminal
      --known-hosts <file> verify the host key against this file (default ~/.ssh/known_hosts,
                           /etc/ssh/ssh_known_hosts); an unknown key is an error, never accepted
      --host-key <SHA256:…>
                           accept exactly this host key fingerprint (as ssh-keygen -l prints it)
      --subsystem <name>   the server's subsystem running pwsh (default powershell)`

/** Which running pwsh `--pipe` attaches to: a process id, a pipe name or a socket path. */
export type PipeTarget = { readonly pid: number } | { readonly pipeName: string } | { readonly path: string }

/** Where to connect, as parsed from the flags (files not read yet, password not asked yet). */
export type ConnectionSpec =
  | { readonly kind: 'local'; readonly timeoutMs?: number }
  | {
      readonly kind: 'wsman'
      readonly server: string
      readonly port?: number
      readonly ssl: boolean
      readonly auth: AuthMethod
      readonly username?: string
      readonly configurationName?: string
      readonly insecure: boolean
      readonly caFile?: string
      readonly certFile?: string
      readonly keyFile?: string
      readonly encryption?: (typeof ENCRYPTION_MODES)[number]
      readonly allowUnencrypted: boolean
      readonly timeoutMs?: number
    }
  | {
      readonly kind: 'ssh'
      /** Host name, address or `~/.ssh/config` alias (IPv6 without brackets). */
      readonly host: string
      readonly port?: number
      readonly username?: string
      /** `-i`: the private key file. */
      readonly identityFile?: string
      /** `--known-hosts`: the known_hosts file to verify against. */
      readonly knownHostsFile?: string
      /** `--host-key`: the one accepted host key fingerprint. */
      readonly hostKeyFingerprint?: string
      readonly subsystem?: string
      readonly timeoutMs?: number
    }
  | { readonly kind: 'pipe'; readonly target: PipeTarget; readonly timeoutMs?: number }

/** The flags that belong to WinRM (`--host`) only. */
export const WINRM_FLAGS = [
  'ssl',
  'auth',
  'insecure',
  'ca',
  'cert',
  'key',
  'encryption',
  'allow-unencrypted',
  'configuration-name',
] as const
/** The flags that belong to SSH (`--ssh`) only. */
export const SSH_FLAGS = ['identity', 'known-hosts', 'host-key', 'subsystem'] as const
/** The target flags: at most one of them. */
const TARGET_FLAGS = ['host', 'ssh', 'pipe', 'local'] as const

/**
 * Splits `--ssh [user@]host[:port]`. The user is everything before the last `@` (so `a@corp@h`
 * works); an IPv6 address takes brackets when a port follows (`[::1]:2222`; a bare `::1` is a host).
 */
export function parseSshTarget(
  command: string,
  text: string,
): { host: string; username?: string; port?: number } {
  const at = text.lastIndexOf('@')
  const username = at < 0 ? undefined : text.slice(0, at)
  let rest = at < 0 ? text : text.slice(at + 1)
  let portText: string | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) throw new UsageError(command, `--ssh ${JSON.stringify(text)}: missing ']'`)
    const after = rest.slice(close + 1)
    if (after !== '' && !after.startsWith(':'))
      throw new UsageError(command, `--ssh ${JSON.stringify(text)}: unexpected text after ']'`)
    portText = after === '' ? undefined : after.slice(1)
    rest = rest.slice(1, close)
  } else {
    const colon = rest.indexOf(':')
    if (colon >= 0 && colon === rest.lastIndexOf(':')) {
      portText = rest.slice(colon + 1)
      rest = rest.slice(0, colon)
    }
  }
  if (username === '')
    throw new UsageError(command, `--ssh ${JSON.stringify(text)}: empty user name before '@'`)
  if (rest === '') throw new UsageError(command, `--ssh ${JSON.stringify(text)}: missing the host`)
  let port: number | undefined
  if (portText !== undefined) {
    port = Number(portText)
    if (!/^\d+$/.test(portText) || port < 1 || port > 65_535)
      throw new UsageError(command, `--ssh ${JSON.stringify(text)}: the port must be 1 to 65535`)
  }
  return {
    host: rest,
    ...(username === undefined ? {} : { username }),
    ...(port === undefined ? {} : { port }),
  }
}

/** `--pipe`: digits are a process id, a text with `/` or `\\` a socket/pipe path, else a pipe name. */
export function parsePipeTarget(command: string, text: string): PipeTarget {
  if (text === '') throw new UsageError(command, '--pipe must not be empty')
  if (/^\d+$/.test(text)) {
    const pid = Number(text)
    if (!Number.isSafeInteger(pid) || pid < 1)
      throw new UsageError(command, `--pipe ${text}: not a process id`)
    return { pid }
  }
  if (text.includes('/') || text.includes('\\')) return { path: text }
  return { pipeName: text }
}

/** Builds the {@link ConnectionSpec} from parsed flags; inconsistent flags are a {@link UsageError}. */
export function connectionSpec(command: string, values: Map<string, string | boolean>): ConnectionSpec {
  const timeout = positiveNumber(command, 'timeout', str(values, 'timeout'), 86_400)
  const timeoutMs = timeout === undefined ? undefined : Math.round(timeout * 1000)
  const targets = TARGET_FLAGS.filter((f) => values.has(f))
  if (targets.length > 1)
    throw new UsageError(
      command,
      `${targets.map((f) => `--${f}`).join(' and ')} conflict: give one of --host (WinRM), --ssh (SSH), ` +
        '--pipe (a local pwsh process) or --local',
    )
  const target = targets[0] ?? 'local'
  const given = (flags: readonly string[]): string[] => flags.filter((f) => values.has(f))
  const winrmOnly = given(WINRM_FLAGS)
  const sshOnly = given(SSH_FLAGS)
  if (target !== 'host' && winrmOnly.length > 0) {
    if (target === 'ssh' && values.has('insecure'))
      throw new UsageError(
        command,
        '--insecure is for WinRM over HTTPS; SSH host keys are always verified: add the key to a ' +
          'known_hosts file (--known-hosts <file>) or pin it with --host-key <SHA256:…>',
      )
    throw new UsageError(
      command,
      `${flagList(winrmOnly)} need${winrmOnly.length === 1 ? 's' : ''} --host (WinRM)` +
        (target === 'local' ? ' (a local pwsh takes no connection flags)' : ''),
    )
  }
  if (target !== 'ssh' && sshOnly.length > 0)
    throw new UsageError(command, `${flagList(sshOnly)} need${sshOnly.length === 1 ? 's' : ''} --ssh`)
  if (target === 'local' || target === 'pipe') {
    const shared = given(['port', 'user'])
    if (shared.length > 0)
      throw new UsageError(
        command,
        `${flagList(shared)} need${shared.length === 1 ? 's' : ''} --host or --ssh` +
          (target === 'local'
            ? ' (a local pwsh takes no connection flags)'
            : ' (a pipe has no port or user)'),
      )
    const t = timeoutMs === undefined ? {} : { timeoutMs }
    if (target === 'local') return { kind: 'local', ...t }
    return { kind: 'pipe', target: parsePipeTarget(command, str(values, 'pipe') as string), ...t }
  }
  const port = positiveNumber(command, 'port', str(values, 'port'), 65_535)
  if (port !== undefined && !Number.isInteger(port))
    throw new UsageError(command, '--port must be an integer')
  if (target === 'ssh') return sshSpec(command, values, port, timeoutMs)
  const server = str(values, 'host') as string
  if (server === '') throw new UsageError(command, '--host must not be empty')
  const configurationName = str(values, 'configuration-name')
  const certFile = str(values, 'cert')
  const keyFile = str(values, 'key')
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError(command, '--cert and --key go together')
  const authText = str(values, 'auth') ?? (certFile !== undefined ? 'certificate' : 'negotiate')
  if (!(AUTH_METHODS as readonly string[]).includes(authText))
    throw new UsageError(
      command,
      `--auth must be one of ${AUTH_METHODS.join(', ')}, got ${JSON.stringify(authText)}`,
    )
  const auth = authText as AuthMethod
  const ssl = values.get('ssl') === true
  if (auth === 'certificate' && certFile === undefined)
    throw new UsageError(command, '--auth certificate needs --cert and --key')
  if (auth === 'certificate' && !ssl) throw new UsageError(command, '--auth certificate needs --ssl')
  if (auth !== 'certificate' && certFile !== undefined)
    throw new UsageError(command, '--cert/--key are for --auth certificate')
  const username = str(values, 'user')
  // Kerberos without --user uses the ticket cache (KRB5CCNAME, as after kinit)
  if (auth !== 'certificate' && auth !== 'kerberos' && username === undefined)
    throw new UsageError(command, `--auth ${auth} needs --user`)
  const encryption = str(values, 'encryption')
  if (encryption !== undefined && !(ENCRYPTION_MODES as readonly string[]).includes(encryption))
    throw new UsageError(command, `--encryption must be one of ${ENCRYPTION_MODES.join(', ')}`)
  const insecure = values.get('insecure') === true
  if (insecure && !ssl) throw new UsageError(command, '--insecure applies to --ssl only')
  const caFile = str(values, 'ca')
  if (caFile !== undefined && !ssl) throw new UsageError(command, '--ca applies to --ssl only')
  return {
    kind: 'wsman',
    server,
    ssl,
    auth,
    insecure,
    allowUnencrypted: values.get('allow-unencrypted') === true,
    ...(port === undefined ? {} : { port }),
    ...(username === undefined ? {} : { username }),
    ...(configurationName === undefined ? {} : { configurationName }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(encryption === undefined ? {} : { encryption: encryption as (typeof ENCRYPTION_MODES)[number] }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  }
}

/** The SSH part of {@link connectionSpec}. */
function sshSpec(
  command: string,
  values: Map<string, string | boolean>,
  port: number | undefined,
  timeoutMs: number | undefined,
): ConnectionSpec {
  const target = parseSshTarget(command, str(values, 'ssh') as string)
  const user = str(values, 'user')
  if (user !== undefined && target.username !== undefined)
    throw new UsageError(command, 'give the user either as --ssh user@host or with --user, not both')
  if (port !== undefined && target.port !== undefined)
    throw new UsageError(command, 'give the port either as --ssh host:port or with --port, not both')
  if (user === '') throw new UsageError(command, '--user must not be empty')
  const username = user ?? target.username
  const sshPort = port ?? target.port
  const identityFile = str(values, 'identity')
  const knownHostsFile = str(values, 'known-hosts')
  const hostKeyFingerprint = str(values, 'host-key')
  const subsystem = str(values, 'subsystem')
  if (identityFile === '') throw new UsageError(command, '--identity must not be empty')
  if (knownHostsFile === '') throw new UsageError(command, '--known-hosts must not be empty')
  if (subsystem === '') throw new UsageError(command, '--subsystem must not be empty')
  if (knownHostsFile !== undefined && hostKeyFingerprint !== undefined)
    throw new UsageError(command, 'give either --known-hosts or --host-key, not both')
  if (
    hostKeyFingerprint !== undefined &&
    !/^(SHA256:[A-Za-z0-9+/]{43}=?|(MD5:)?([0-9a-f]{2}:){15}[0-9a-f]{2})$/i.test(hostKeyFingerprint)
  )
    throw new UsageError(
      command,
      `--host-key must be a fingerprint as ssh-keygen -l prints it (SHA256:…), got ${JSON.stringify(hostKeyFingerprint)}`,
    )
  return {
    kind: 'ssh',
    host: target.host,
    ...(sshPort === undefined ? {} : { port: sshPort }),
    ...(username === undefined ? {} : { username }),
    ...(identityFile === undefined ? {} : { identityFile }),
    ...(knownHostsFile === undefined ? {} : { knownHostsFile }),
    ...(hostKeyFingerprint === undefined ? {} : { hostKeyFingerprint }),
    ...(subsystem === undefined ? {} : { subsystem }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  }
}
