#!/usr/bin/env node
/**
 * The `psrp` command.
 *
 * ```
 * psrp --version
 * psrp decode [--no-body] [file]   # dissect PSRP bytes (base64/hex/XML) from a file or stdin
 * ```
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { dissect } from './decode.ts'
import { PsrpError } from '../errors.ts'

const USAGE = `usage: psrp <command>

commands:
  decode [--no-body] [file]
                  dissect PSRP data (base64, hex, a WS-Man envelope or OutOfProc <Data> lines)
                  read from file, or from stdin when no file is given; prints fragments,
                  message headers, typed fields and CLIXML bodies (--no-body: no CLIXML).
                  Exit code 1 when some data could not be decoded.
  --version       print the version
  --help          print this help`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  switch (cmd) {
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`)
      return 0
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`)
      return cmd === undefined ? 2 : 0
    case 'decode': {
      const bodies = !rest.includes('--no-body')
      const files = rest.filter((a) => a !== '--no-body')
      if (files.length > 1 || files.some((f) => f.startsWith('-') && f !== '-')) {
        process.stderr.write(`psrp decode: unexpected arguments ${JSON.stringify(files)}\n${USAGE}\n`)
        return 2
      }
      const file = files[0]
      const input = file === undefined || file === '-' ? await readStdin() : readFileSync(file, 'utf8')
      const result = dissect(input, { bodies })
      process.stdout.write(`${result.text}\n`)
      return result.errors > 0 ? 1 : 0
    }
    default:
      process.stderr.write(`psrp: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const msg = err instanceof PsrpError ? `${err.code}: ${err.message}` : String(err)
    process.stderr.write(`psrp: ${msg}\n`)
    process.exitCode = 1
  },
)
