/**
 * `psrp cmd <exe> [args…]`: runs a program in a WinRS shell. Its stdout and stderr are copied to ours
 * as they arrive; our stdin is forwarded when it is not a terminal; Ctrl+C sends `ctrl_c` to the
 * program and a second Ctrl+C terminates it. Resolves to the program's exit code (130 when it was
 * terminated).
 *
 * @module
 */
import type { Readable } from 'node:stream'
import type { CmdArgs } from './args.ts'
import { openSession } from './connect.ts'
import type { CliIO } from './run.ts'
import { TimeoutError } from '../index.ts'

/** Copies a readable to a writable, respecting the writable's backpressure; resolves at the end. */
async function pipeOut(from: Readable, to: NodeJS.WritableStream): Promise<void> {
  for await (const chunk of from) {
    if (!to.write(chunk as Buffer)) await new Promise<void>((r) => to.once('drain', () => r()))
  }
}

/** Runs `psrp cmd`; resolves to the exit code. */
export async function cmdCommand(args: CmdArgs, io: CliIO): Promise<number> {
  const session = await openSession('cmd', args.connection, io)
  try {
    const shell = await session.openWinRS()
    try {
      const proc = await shell.spawn(args.executable, args.args, { skipCmdShell: args.skipCmdShell })
      if (io.input.isTTY === true) proc.stdin.end()
      else io.input.pipe(proc.stdin)
      let interrupts = 0
      const onSigint = (): void => {
        interrupts++
        if (interrupts === 1) void proc.signal('ctrl_c').catch(() => undefined)
        else void proc.kill().catch(() => undefined)
      }
      process.on('SIGINT', onSigint)
      let timer: NodeJS.Timeout | undefined
      const timeoutMs = args.connection.timeoutMs
      const timedOut =
        timeoutMs === undefined
          ? new Promise<never>(() => undefined)
          : new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                void proc.kill().catch(() => undefined)
                reject(new TimeoutError(`the program ran longer than ${timeoutMs} ms`, timeoutMs))
              }, timeoutMs)
            })
      try {
        const [code] = await Promise.race([
          Promise.all([proc.exited, pipeOut(proc.stdout, io.output), pipeOut(proc.stderr, io.error)]),
          timedOut,
        ])
        return code ?? 130
      } finally {
        if (timer !== undefined) clearTimeout(timer)
        process.removeListener('SIGINT', onSigint)
        io.input.unpipe(proc.stdin)
      }
    } finally {
      await shell.close().catch(() => undefined)
    }
  } finally {
    await session.close()
  }
}
