/**
 * The `psrp wsman` command line (`get`, `enumerate`, `invoke` of WMI classes over WinRM): its flags
 * on top of the connection flags of `commands-connection.ts`, its `--help` text and the function that
 * parses its arguments. Pure: no I/O.
 *
 * @module
 */
import { parseOptions, positiveNumber, str, UsageError } from './args-parser.ts'
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  connectionSpec,
  type ConnectionSpec,
} from './commands-connection.ts'

/** The `psrp wsman` operations. */
export const WSMAN_OPERATIONS = ['get', 'enumerate', 'invoke'] as const

/** `psrp wsman`. */
export interface WsmanArgs {
  readonly help: boolean
  readonly connection: ConnectionSpec
  /** Which operation (absent only with `--help`). */
  readonly operation?: (typeof WSMAN_OPERATIONS)[number]
  /** A class name (in {@link namespace}) or a resource URI; absent for `enumerate --wql`. */
  readonly resource?: string
  /** `invoke`: the method name. */
  readonly method?: string
  /** `Key=Value` arguments: the instance's key properties. */
  readonly selectors: Readonly<Record<string, string>>
  /** `invoke --params <json>`: the method's input parameters. */
  readonly parameters: Readonly<Record<string, unknown>>
  /** `enumerate --wql <query>`. */
  readonly wql?: string
  /** `--namespace` (default `root/cimv2`). */
  readonly namespace?: string
  /** `enumerate --max-elements <n>`: instances per response. */
  readonly maxElements?: number
  /** `--json`: one JSON object per instance. */
  readonly json: boolean
}

/** Help of `psrp wsman`. */
export const WSMAN_HELP = `usage: psrp wsman get <class|uri> [Key=Value…] --host <server> [options]
       psrp wsman enumerate <class|uri> | --wql <query> --host <server> [options]
       psrp wsman invoke <class|uri> <method> [Key=Value…] [--params <json>] --host <server> [options]

WS-Management operations on WMI (CIM) classes over WinRM, on the same authenticated connection the
other commands use: get one instance (Key=Value names it by its key properties; none for a
singleton such as Win32_OperatingSystem), enumerate a class or a WQL query (every instance, pulled
in batches), or invoke a method (ReturnValue and output parameters). A <class> is a WMI class name
in --namespace; a full resource URI (http://…) is used as is. Values are text unless the class is
known (Win32_Service, Win32_OperatingSystem) or the server typed them.

  psrp wsman get Win32_OperatingSystem --host win1
  psrp wsman enumerate --wql "SELECT Name, State FROM Win32_Service WHERE State = 'Running'" --host win1
  psrp wsman invoke Win32_Service StopService Name=Spooler --host win1

      --wql <query>        enumerate: the instances a WQL query selects
      --params <json>      invoke: input parameters as a JSON object ({"StartMode": "Manual"})
      --namespace <ns>     the CIM namespace of class names (default root/cimv2)
      --max-elements <n>   enumerate: instances per response (default 32000)
      --json               one JSON object per instance (64-bit integers beyond 2^53 as text)

${CONNECTION_HELP}`

/** Parses `psrp wsman` arguments. */
export function parseWsmanArgs(argv: readonly string[]): WsmanArgs {
  const { values, positionals } = parseOptions('wsman', argv, {
    ...CONNECTION_OPTIONS,
    wql: { type: 'string' },
    params: { type: 'string' },
    namespace: { type: 'string' },
    'max-elements': { type: 'string' },
    json: { type: 'boolean' },
  })
  const help = values.get('help') === true
  const connection = connectionSpec('wsman', values)
  const maxElements = positiveNumber('wsman', 'max-elements', str(values, 'max-elements'), 4_294_967_295)
  const namespace = str(values, 'namespace')
  const wql = str(values, 'wql')
  const base = {
    help,
    connection,
    json: values.get('json') === true,
    selectors: {},
    parameters: {},
    ...(namespace === undefined ? {} : { namespace }),
    ...(maxElements === undefined ? {} : { maxElements: Math.floor(maxElements) }),
  }
  if (help) return base
  const [operation, ...rest] = positionals
  if (operation === undefined)
    throw new UsageError('wsman', 'missing the operation: get, enumerate or invoke')
  if (!(WSMAN_OPERATIONS as readonly string[]).includes(operation)) {
    throw new UsageError('wsman', `unknown operation ${JSON.stringify(operation)} (get, enumerate or invoke)`)
  }
  if (connection.kind !== 'wsman')
    throw new UsageError('wsman', 'psrp wsman needs a WinRM server: --host <server>')
  const op = operation as WsmanArgs['operation'] & string
  if (op !== 'enumerate' && wql !== undefined) throw new UsageError('wsman', '--wql is for enumerate')
  if (op !== 'invoke' && str(values, 'params') !== undefined)
    throw new UsageError('wsman', '--params is for invoke')
  if (op === 'enumerate') {
    if (wql !== undefined && rest.length > 0) throw new UsageError('wsman', 'give a class or --wql, not both')
    if (wql === undefined && rest.length !== 1)
      throw new UsageError('wsman', 'enumerate takes one class (or --wql <query>)')
    return { ...base, operation: op, ...(wql === undefined ? { resource: rest[0] as string } : { wql }) }
  }
  const [resource, ...more] = rest
  if (resource === undefined) throw new UsageError('wsman', `${op} needs a class or resource URI`)
  let method: string | undefined
  if (op === 'invoke') {
    method = more.shift()
    if (method === undefined || method.includes('='))
      throw new UsageError('wsman', 'invoke needs a method name after the class')
  }
  const selectors: Record<string, string> = {}
  for (const pair of more) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError('wsman', `expected Key=Value, got ${JSON.stringify(pair)}`)
    selectors[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  let parameters: Record<string, unknown> = {}
  const params = str(values, 'params')
  if (params !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(params)
    } catch (e) {
      throw new UsageError('wsman', `--params is not JSON: ${(e as Error).message}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError('wsman', '--params must be a JSON object of parameter names and values')
    }
    parameters = parsed as Record<string, unknown>
  }
  return {
    ...base,
    operation: op,
    resource,
    ...(method === undefined ? {} : { method }),
    selectors,
    parameters,
  }
}
