/**
 * Fleet mode of `psrp run`, `cmd` and `copy`: several targets at once (`--host a,b,c`,
 * `--hosts-file inventory.txt`) with `--throttle N`. This module only parses the command line into a
 * {@link FleetSpec}; the inventory file is read, and the WinRM and SSH flags are checked against the
 * kinds of target it actually holds, when the command runs (`fleet.ts`). Pure: no I/O.
 *
 * @module
 */
import { positiveNumber, str, UsageError, type OptionSpec } from './args-parser.ts'

/** The flags of fleet mode (accepted by `run`, `cmd` and `copy`). */
export const FLEET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'hosts-file': { type: 'string' },
  throttle: { type: 'string' },
}

/** Help of the fleet flags. */
export const FLEET_HELP = `several hosts (fleet mode):
  -H, --host <a,b,c>       a comma-separated list of targets: a WinRM host ([user@]host[:port],
                           http(s)://host[:port]/path), ssh://[user@]host[:port], or local
      --hosts-file <file>  one target per line (# comments); with --host, both are used
      --throttle <n>       hosts in flight at once (default 32)
                           Each output line is prefixed with its host ([host] line; with --json
                           each object gets "PSComputerName"); a summary ends the run; the exit code
                           is 0 only when every host succeeded. --timeout is per host. The WinRM
                           and SSH flags above apply to the targets of their kind.`

/** Where a fleet runs: the targets as given, read and checked when the command runs. */
export interface FleetSpec {
  /** Targets from `--host a,b,c` (text, as given). */
  readonly targets: readonly string[]
  /** `--hosts-file`: an inventory to read. */
  readonly hostsFile?: string
  /** `--throttle` (default: the library's, 32). */
  readonly throttle?: number
  /** `--timeout`, per host. */
  readonly timeoutMs?: number
  /** The flags as given, for the WinRM and SSH connection specs built once the target kinds are known. */
  readonly flags: ReadonlyMap<string, string | boolean>
}

/**
 * The {@link FleetSpec} of the flags, or undefined when they name one target (no `--hosts-file`,
 * no comma in `--host`). `--throttle` without several targets is a {@link UsageError}.
 */
export function fleetSpec(command: string, values: Map<string, string | boolean>): FleetSpec | undefined {
  const host = str(values, 'host')
  const hostsFile = str(values, 'hosts-file')
  const several = hostsFile !== undefined || (host !== undefined && host.includes(','))
  if (!several) {
    if (values.has('throttle'))
      throw new UsageError(command, '--throttle needs several hosts (--host a,b,c or --hosts-file)')
    return undefined
  }
  for (const other of ['ssh', 'pipe', 'local'] as const) {
    if (values.has(other))
      throw new UsageError(
        command,
        `--${other} names one target; in fleet mode write it in the list (ssh://host, local)`,
      )
  }
  if (hostsFile === '') throw new UsageError(command, '--hosts-file must not be empty')
  const targets = (host ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
  if (host !== undefined && targets.length === 0) throw new UsageError(command, '--host lists no target')
  const throttle = positiveNumber(command, 'throttle', str(values, 'throttle'), 100_000)
  if (throttle !== undefined && !Number.isInteger(throttle))
    throw new UsageError(command, '--throttle must be an integer')
  const timeout = positiveNumber(command, 'timeout', str(values, 'timeout'), 86_400)
  return {
    targets,
    flags: new Map(values),
    ...(hostsFile === undefined ? {} : { hostsFile }),
    ...(throttle === undefined ? {} : { throttle }),
    ...(timeout === undefined ? {} : { timeoutMs: Math.round(timeout * 1000) }),
  }
}
