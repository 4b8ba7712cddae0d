/**
 * Fleet mode of `psrp run`, `cmd` and `copy` (`--host a,b,c`, `--hosts-file`, `--throttle`): the
 * command runs on every target through `runOnHosts`, at most `--throttle` at once. As in
 * `Invoke-Command -ComputerName`, each output line is tagged with its host as the user wrote it
 * (`[host] line`, or `"PSComputerName"` in each `--json` object) as it arrives; on a terminal a progress line on stderr
 * counts done and failed hosts; a summary ends the run (a table on stderr, or with `--json` one last
 * `{"summary": …}` line on stdout). Exit code 0 only when every host succeeded (`run`: no error
 * record; `cmd`: exit code 0), else 1; 130 after Ctrl+C.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import {
  AbortError,
  ErrorRecord,
  InvalidArgumentError,
  parseFleetTarget,
  parseInventory,
  PowerShell,
  PsrpError,
  runOnHosts,
  type Client,
  type FleetTargetSpec,
  type HostResult,
  type RunOnHostsOptions,
} from '../index.ts'
import { UsageError } from './args-parser.ts'
import { connectionSpec, SSH_FLAGS, WINRM_FLAGS, type ConnectionSpec } from './commands-connection.ts'
import type { FleetSpec } from './commands-fleet.ts'
import type { CmdArgs, RunArgs, TransferArgs } from './commands.ts'
import { wsmanOptions, type ConnectIO } from './connect.ts'
import { toJsonLine } from './json.ts'
import { cannotRead } from './messages.ts'
import { formatErrorRecord, type CliIO } from './run.ts'
import { sshConnectionOptions } from './ssh.ts'

/** What one host's work reports besides its output, for the summary and the exit code. */
interface HostOutcome {
  /** False when the host's work succeeded but its result counts as a failure (error records, exit code). */
  readonly clean: boolean
  /** A short note for the summary (`exit 3`, `2 errors`, `1.2 MiB`). */
  readonly note: string
}

/** Where a host's job writes: its lines tagged with the host, clear of the progress line. */
interface FleetOutput {
  /** Lines of `text` on stdout, each as `[host] line`. */
  lines(host: string, text: string): void
  /** Lines of `text` on stderr, each as `[host] line`. */
  errorLines(host: string, text: string): void
  /** One `--json` line on stdout, tagged with `PSComputerName`. */
  json(host: string, value: unknown): void
}

/** The per-host job of one command. */
type FleetJob = (client: Client, host: string, signal: AbortSignal, out: FleetOutput) => Promise<HostOutcome>

/** Runs `psrp run` on every target. */
export function runFleetScript(args: RunArgs, script: string, io: CliIO): Promise<number> {
  const width = args.width ?? 120
  const job: FleetJob = async (client, host, signal, out) => {
    const ps = new PowerShell(await client.pool({ signal })).addScript(script)
    if (!args.json) ps.addCommand('Out-String').addParameter('Stream', true).addParameter('Width', width)
    for await (const o of ps.stream(undefined, { signal })) {
      if (args.json) out.json(host, o)
      else out.lines(host, String(o))
    }
    for (const record of ps.streams.error) {
      out.errorLines(host, record instanceof ErrorRecord ? formatErrorRecord(record) : String(record))
    }
    for (const w of ps.streams.warning) out.errorLines(host, `WARNING: ${String(w)}`)
    const errors = ps.streams.error.length
    return {
      clean: !ps.hadErrors,
      note: errors === 0 ? '' : `${errors} error record${errors === 1 ? '' : 's'}`,
    }
  }
  return runFleet('run', args.fleet as FleetSpec, job, args.json, io)
}

/** Runs `psrp cmd` on every target (output collected per host, printed when it exits). */
export function runFleetCmd(args: CmdArgs, io: CliIO): Promise<number> {
  const job: FleetJob = async (client, host, signal, out) => {
    const r = await client.runCmd(args.executable, args.args, {
      signal,
      skipCmdShell: args.skipCmdShell,
      rawStderr: args.rawStderr,
    })
    if (r.stdout !== '') out.lines(host, r.stdout)
    if (r.stderr !== '') out.errorLines(host, r.stderr)
    return { clean: r.rc === 0, note: `exit ${r.rc}` }
  }
  return runFleet('cmd', args.fleet as FleetSpec, job, false, io)
}

/** Runs `psrp copy` to every target. */
export function runFleetCopy(args: TransferArgs, io: CliIO): Promise<number> {
  const job: FleetJob = async (client, _host, signal) => {
    const r = await client.copy(args.source, args.destination, {
      overwrite: args.overwrite,
      expandVariables: args.expandVariables,
      signal,
    })
    return { clean: true, note: `${r.bytes} bytes` }
  }
  return runFleet('copy', args.fleet as FleetSpec, job, false, io)
}

/** The targets of `--host` and `--hosts-file`, in that order. */
function fleetTargets(command: string, spec: FleetSpec): FleetTargetSpec[] {
  try {
    const targets = spec.targets.map((t) => parseFleetTarget(t))
    if (spec.hostsFile !== undefined) {
      let text: string
      try {
        text = readFileSync(spec.hostsFile, 'utf8')
      } catch (e) {
        throw cannotRead(spec.hostsFile, e)
      }
      targets.push(...parseInventory(text))
    }
    if (targets.length === 0) throw new UsageError(command, `${spec.hostsFile ?? '--host'} lists no target`)
    return targets
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new UsageError(command, e.message)
    throw e
  }
}

/** The connection spec of the flags as if they named one target of `kind` (checks the flags for it). */
function specFor<K extends 'wsman' | 'ssh'>(
  command: string,
  spec: FleetSpec,
  kind: K,
): Extract<ConnectionSpec, { kind: K }> {
  const flags = new Map(spec.flags)
  for (const f of ['host', 'hosts-file', 'throttle', 'ssh']) flags.delete(f)
  // a placeholder target: each host's own name, port and user come from its line
  flags.set(kind === 'wsman' ? 'host' : 'ssh', 'fleet')
  for (const f of kind === 'wsman' ? SSH_FLAGS : WINRM_FLAGS) flags.delete(f)
  return connectionSpec(command, flags) as Extract<ConnectionSpec, { kind: K }>
}

async function runFleet(
  command: 'run' | 'cmd' | 'copy',
  spec: FleetSpec,
  job: FleetJob,
  json: boolean,
  io: CliIO,
): Promise<number> {
  const targets = fleetTargets(command, spec)
  const connectIO: ConnectIO = { env: io.env, input: io.input, error: io.error }
  const options: RunOnHostsOptions = {
    ...(spec.throttle === undefined ? {} : { throttle: spec.throttle }),
    ...(spec.timeoutMs === undefined ? {} : { perHostTimeout: spec.timeoutMs }),
  }
  // the WinRM and SSH flags are checked (and the password asked for) only for kinds the fleet has
  if (targets.some((t) => t.kind === 'wsman')) {
    const { server: _server, ...wsman } = await wsmanOptions(
      command,
      specFor(command, spec, 'wsman'),
      connectIO,
    )
    options.wsman = wsman
  }
  if (targets.some((t) => t.kind === 'ssh')) {
    const { host: _host, ...ssh } = await sshConnectionOptions(
      command,
      specFor(command, spec, 'ssh'),
      connectIO,
    )
    options.ssh = ssh
  }
  const stop = new AbortController()
  options.signal = stop.signal
  const onSigint = (): void => stop.abort()
  process.on('SIGINT', onSigint)
  const onOutputClosed = (): void => stop.abort()
  io.outputClosed?.addEventListener('abort', onOutputClosed, { once: true })
  const progress = new ProgressLine(io, targets.length)
  const out: FleetOutput = {
    lines: (host, text) => {
      progress.clear()
      io.output.write(tagLines(host, text))
    },
    errorLines: (host, text) => {
      progress.clear()
      io.error.write(tagLines(host, text))
    },
    json: (host, value) => io.output.write(`${taggedJson(host, value)}\n`),
  }
  const results: HostResult<HostOutcome>[] = []
  const started = performance.now()
  try {
    for await (const r of runOnHosts(
      targets,
      (client, { target, signal }) => job(client, target.text, signal, out),
      options,
    )) {
      results.push(r)
      progress.update(results)
    }
  } catch (e) {
    if (!(e instanceof AbortError)) throw e
    progress.clear()
    return io.outputClosed?.aborted === true ? 141 : 130
  } finally {
    process.removeListener('SIGINT', onSigint)
    io.outputClosed?.removeEventListener('abort', onOutputClosed)
    progress.stop()
  }
  const failed = results
    .filter((r) => !r.ok || !r.value.clean)
    .sort((a, b) => a.target.text.localeCompare(b.target.text))
  if (json) io.output.write(`${summaryJson(results, failed, performance.now() - started)}\n`)
  else io.error.write(summaryTable(results, failed))
  return failed.length === 0 ? 0 : 1
}

/** Each line of `text` with the host in front (the last line's newline added if missing). */
function tagLines(host: string, text: string): string {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/)
  return lines.map((l) => `[${host}] ${l}\n`).join('')
}

/** One `--json` output line with the host as `PSComputerName` (first), as Invoke-Command tags objects. */
function taggedJson(host: string, value: unknown): string {
  const parsed: unknown = JSON.parse(toJsonLine(value))
  const body =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { value: parsed }
  return JSON.stringify({ PSComputerName: host, ...body })
}

/** Why a host failed, in one line. */
function failureText(r: HostResult<HostOutcome>): string {
  if (r.ok) return r.value.note
  const code = r.error instanceof PsrpError ? `${r.error.code}: ` : ''
  return `${code}${r.error.message.split('\n')[0] as string}`
}

function summaryJson(
  results: HostResult<HostOutcome>[],
  failed: HostResult<HostOutcome>[],
  ms: number,
): string {
  return JSON.stringify({
    summary: {
      hosts: results.length,
      succeeded: results.length - failed.length,
      failed: failed.length,
      durationMs: Math.round(ms),
      failedHosts: failed.map((r) => ({
        host: r.host,
        target: r.target.text,
        ...(r.ok
          ? { note: r.value.note }
          : {
              phase: r.phase,
              error: r.error instanceof PsrpError ? r.error.code : r.error.name,
              message: r.error.message,
            }),
      })),
    },
  })
}

function summaryTable(results: HostResult<HostOutcome>[], failed: HostResult<HostOutcome>[]): string {
  const rows = [...results]
    .sort((a, b) => a.target.text.localeCompare(b.target.text))
    .map((r) => [
      r.target.text,
      !r.ok ? 'failed' : r.value.clean ? 'ok' : 'errors',
      `${(r.durationMs / 1000).toFixed(1)} s`,
      failureText(r),
    ])
  const head = ['HOST', 'RESULT', 'TIME', '']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd()
  const ok = results.length - failed.length
  return (
    `${[head, ...rows].map(line).join('\n')}\n` +
    `${ok} of ${results.length} host${results.length === 1 ? '' : 's'} succeeded` +
    (failed.length === 0 ? '\n' : `; failed: ${failed.map((r) => r.target.text).join(', ')}\n`)
  )
}

/** `done/total, N failed, Ts` on stderr when it is a terminal, redrawn as hosts finish and each second. */
class ProgressLine {
  readonly #io: CliIO
  readonly #total: number
  readonly #started = performance.now()
  readonly #timer: NodeJS.Timeout | undefined
  #text = ''
  #results: HostResult<HostOutcome>[] = []

  constructor(io: CliIO, total: number) {
    this.#io = io
    this.#total = total
    this.#timer = io.error.isTTY === true ? setInterval(() => this.#draw(), 1000) : undefined
    this.#timer?.unref()
  }

  update(results: HostResult<HostOutcome>[]): void {
    this.#results = results
    this.#draw()
  }

  #draw(): void {
    if (this.#timer === undefined) return
    const failed = this.#results.filter((r) => !r.ok || !r.value.clean).length
    const seconds = Math.round((performance.now() - this.#started) / 1000)
    this.#text = `${this.#results.length}/${this.#total} hosts done, ${failed} failed, ${seconds} s`
    this.#io.error.write(`\r\x1b[K${this.#text}`)
  }

  clear(): void {
    if (this.#timer !== undefined && this.#text !== '') this.#io.error.write('\r\x1b[K')
    this.#text = ''
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.clear()
  }
}
