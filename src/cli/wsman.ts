/**
 * `psrp wsman get|enumerate|invoke`: WMI (CIM) operations over WinRM with the public
 * {@link CimSession}. Instances print as `Name : value` lists (as PowerShell's Format-List), or one
 * JSON object per line with `--json`.
 *
 * @module
 */
import { CimSession, WSManConnection } from '../index.ts'
import type { CimInputValue, CimObject, CimValue } from '../wsman/index.ts'
import { UsageError } from './args-parser.ts'
import type { WsmanArgs } from './commands-wsman.ts'
import { wsmanOptions } from './connect.ts'
import { outputGone, type CliIO } from './run.ts'

/** A CIM value for JSON: 64-bit integers as numbers while exact, else as their decimal text. */
function jsonValue(v: CimValue): unknown {
  if (typeof v === 'bigint') return v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v.toString()
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  if (Array.isArray(v)) return v.map(jsonValue)
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]))
  return v
}

/** A value on one line: arrays as `{a, b}` and objects as `@{k=v; …}`, as PowerShell shows them. */
function textValue(v: CimValue): string {
  if (v === null) return ''
  if (Array.isArray(v)) return `{${v.map(textValue).join(', ')}}`
  if (typeof v === 'object')
    return `@{${Object.entries(v)
      .map(([k, x]) => `${k}=${textValue(x)}`)
      .join('; ')}}`
  return String(v)
}

function formatList(o: CimObject): string {
  const keys = Object.keys(o)
  const width = Math.max(0, ...keys.map((k) => k.length))
  return keys.map((k) => `${k.padEnd(width)} : ${textValue(o[k] as CimValue)}`).join('\n')
}

function inputValue(name: string, v: unknown): CimInputValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (Array.isArray(v)) return v.map((x) => inputValue(name, x))
  throw new UsageError('wsman', `--params: ${name} must be text, a number, true/false, null or an array`)
}

/** Runs `psrp wsman`; resolves with the exit code. */
export async function wsmanCommand(args: WsmanArgs, io: CliIO): Promise<number> {
  const spec = args.connection
  if (spec.kind !== 'wsman') throw new UsageError('wsman', 'psrp wsman needs a WinRM server: --host <server>')
  const conn = new WSManConnection(await wsmanOptions('wsman', spec, io))
  const session = new CimSession(conn, args.namespace === undefined ? {} : { namespace: args.namespace })
  const call = spec.timeoutMs === undefined ? {} : { timeout: spec.timeoutMs }
  let first = true
  const print = (o: CimObject): void => {
    if (args.json) io.output.write(`${JSON.stringify(jsonValue(o))}\n`)
    else {
      io.output.write(`${first ? '' : '\n'}${formatList(o)}\n`)
      first = false
    }
  }
  try {
    switch (args.operation) {
      case 'get':
        print(await session.getInstance(args.resource as string, args.selectors, call))
        return 0
      case 'enumerate': {
        const options = {
          ...call,
          ...(args.maxElements === undefined ? {} : { maxElements: args.maxElements }),
        }
        const items =
          args.wql === undefined
            ? session.enumerateInstances(args.resource as string, options)
            : session.queryInstances(args.wql, options)
        for await (const item of items) {
          if (outputGone(io)) break // psrp exits 141 on a closed stdout
          print(item)
        }
        return 0
      }
      case 'invoke': {
        const parameters = Object.fromEntries(
          Object.entries(args.parameters).map(([k, v]) => [k, inputValue(k, v)]),
        )
        print(
          await session.invokeMethod(args.resource as string, args.method as string, {
            ...call,
            selectors: args.selectors,
            parameters,
          }),
        )
        return 0
      }
      default:
        throw new UsageError('wsman', 'missing the operation: get, enumerate or invoke')
    }
  } finally {
    await conn.close()
  }
}
