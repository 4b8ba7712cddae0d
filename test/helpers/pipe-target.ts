/**
 * pwsh processes to attach to over their IPC named pipe (`NamedPipeConnection`): each is started
 * with `-CustomPipeName <name> -Command 'Start-Sleep 600'` in its own process group, and
 * {@link stopPipeTarget} kills the group. {@link stopAllPipeTargets} (in an `after` hook) ends the
 * ones a test left running.
 *
 * ```ts
 * const target = startPipeTarget(pwsh)
 * await waitForPipe(target.name)
 * new NamedPipeConnection({ pipeName: target.name })
 * stopPipeTarget(target.child)
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { pipePath } from '../../src/index.ts'

/** A started pwsh and the name of its custom pipe. */
export interface PipeTarget {
  readonly child: ChildProcess
  readonly name: string
}

let serial = 0
const started = new Set<ChildProcess>()

/** Starts `pwsh -CustomPipeName <name> -Command 'Start-Sleep 600'` (its own process group). */
export function startPipeTarget(pwsh: string, name = `psrp${process.pid}x${serial++}`): PipeTarget {
  const child = spawn(
    pwsh,
    ['-NoLogo', '-NoProfile', '-NonInteractive', '-CustomPipeName', name, '-Command', 'Start-Sleep 600'],
    { stdio: 'ignore', detached: true, env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' } },
  )
  started.add(child)
  return { child, name }
}

/** Kills the process group of a target started by {@link startPipeTarget}. */
export function stopPipeTarget(child: ChildProcess): void {
  started.delete(child)
  try {
    process.kill(-(child.pid as number), 'SIGKILL')
  } catch {
    // already gone
  }
}

/** Stops every target still running. */
export function stopAllPipeTargets(): void {
  for (const c of [...started]) stopPipeTarget(c)
}

/** Waits (up to 30 s, polling every 100 ms) for the socket of pipe `name` to appear; false if it does not. */
export async function waitForPipe(name: string): Promise<boolean> {
  const path = pipePath(name)
  for (let i = 0; i < 300 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 100))
  return existsSync(path)
}
