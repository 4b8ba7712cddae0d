/**
 * CIM (WMI) over a {@link WSManConnection}, the way PowerShell's `Get-CimInstance` and
 * `Invoke-CimMethod` reach a Windows host over WinRM: WS-Transfer Get of one instance,
 * WS-Enumeration of a class or a WQL query (an async iterable that follows the EnumerationContext
 * until EndOfSequence and sends Release when the loop stops early), and method invocation. Instances
 * come back as plain objects (`psrp/wsman` `parseCimInstance`: strings unless the type is known).
 *
 * ```ts
 * const cim = new CimSession(conn)
 * const os = await cim.getInstance('Win32_OperatingSystem')
 * for await (const svc of cim.queryInstances("SELECT Name, State FROM Win32_Service WHERE State = 'Running'")) …
 * const { ReturnValue } = await cim.invokeMethod('Win32_Service', 'StopService', { selectors: { Name: 'Spooler' } })
 * ```
 *
 * @module
 */
import { ProtocolError } from '../errors.ts'
import type { CallOptions } from '../transport/cancel.ts'
import type { WSManConnection } from '../transport/wsman-connection.ts'
import {
  cimMethodRequest,
  cimResourceUri,
  parseCimInstance,
  parseCimMethodOutput,
  type CimInputValue,
  type CimObject,
  type CimSchema,
} from '../wsman/cim.ts'
import type { EnumerationFilter, SelectorSet, WSManOption } from '../wsman/envelope.ts'
import { EnumerationCursor, wqlFilter } from '../wsman/enumeration.ts'
import type { NsElement } from '../wsman/xml-ns.ts'

/** Options of {@link CimSession}. */
export interface CimSessionOptions {
  /** The CIM namespace of class names (default `root/cimv2`). */
  namespace?: string | undefined
}

/** Options of each {@link CimSession} call: cancellation and time limit apply to each request. */
export interface CimCallOptions extends CallOptions {
  /** Property types for the instances or output (default: the known table for the class). */
  schema?: CimSchema | undefined
  /** `wsman:OptionSet` of the request(s). */
  options?: readonly WSManOption[] | undefined
  /** `wsman:OperationTimeout` in seconds (default the connection's). */
  operationTimeout?: number | undefined
}

/** Options of {@link CimSession.enumerateInstances} and {@link CimSession.queryInstances}. */
export interface CimEnumerateOptions extends CimCallOptions {
  /** `wsman:MaxElements`: instances per response (default 32000; the server may send fewer). */
  maxElements?: number | undefined
  /** A filter (any dialect) for {@link CimSession.enumerateInstances}. */
  filter?: EnumerationFilter | undefined
  /** Selectors of the enumerated resource. */
  selectors?: SelectorSet | undefined
}

/** Options of {@link CimSession.invokeMethod}. */
export interface CimInvokeOptions extends CimCallOptions {
  /** The instance (its key properties); none for a static method. */
  selectors?: SelectorSet | undefined
  /** Input parameters by name. */
  parameters?: Readonly<Record<string, CimInputValue>> | undefined
}

/**
 * Items of a WS-Man enumeration, in order, following the EnumerationContext from response to
 * response until EndOfSequence. Breaking out of the loop (or an error in it) sends Release for the
 * open context; a failed Release is not reported (the server drops idle contexts by itself).
 */
export async function* enumerateItems(
  connection: WSManConnection,
  cursor: EnumerationCursor,
  options: CallOptions = {},
): AsyncGenerator<NsElement, void, undefined> {
  const call = { signal: options.signal, timeout: options.timeout }
  try {
    for (let request = cursor.next(); request !== undefined; request = cursor.next()) {
      const items = cursor.receive(await connection.request(request, call))
      for (const item of items) yield item
    }
  } finally {
    const release = cursor.release()
    if (release !== undefined) {
      try {
        await connection.invoke(release.actionUri, release.resourceUri, release.body, {
          ...call,
          ...(release.selectors === undefined ? {} : { selectors: release.selectors }),
        })
      } catch {
        // best effort: the context expires on the server anyway
      }
    }
  }
}

/** CIM operations on one WinRM connection (see the module comment). */
export class CimSession {
  /** The connection the requests go over (its authentication and encryption). */
  readonly connection: WSManConnection
  /** The CIM namespace of class names. */
  readonly namespace: string

  constructor(connection: WSManConnection, options: CimSessionOptions = {}) {
    this.connection = connection
    this.namespace = options.namespace ?? 'root/cimv2'
    cimResourceUri('x', this.namespace) // validates the namespace now
  }

  /** The resource URI of a class name (in {@link namespace}) or a URI given as is. */
  resourceUri(classOrUri: string): string {
    return cimResourceUri(classOrUri, this.namespace)
  }

  /**
   * One instance (WS-Transfer Get): `selectors` are its key properties (none for a singleton such
   * as `Win32_OperatingSystem`).
   */
  async getInstance(
    classOrUri: string,
    selectors: SelectorSet = {},
    options: CimCallOptions = {},
  ): Promise<CimObject> {
    const res = await this.connection.request(
      {
        action: 'get',
        resourceUri: this.resourceUri(classOrUri),
        selectors,
        ...(options.options === undefined ? {} : { options: options.options }),
        ...(options.operationTimeout === undefined ? {} : { operationTimeout: options.operationTimeout }),
      },
      { signal: options.signal, timeout: options.timeout },
    )
    if (res.kind !== 'get' || res.body === undefined) {
      throw new ProtocolError(
        `the server answered Get with ${res.kind === 'get' ? 'an empty body' : res.kind}`,
      )
    }
    return parseCimInstance(res.body, options.schema === undefined ? {} : { schema: options.schema })
  }

  /** Every instance of a class (or resource URI), optionally filtered (WS-Enumeration Enumerate/Pull). */
  enumerateInstances(classOrUri: string, options: CimEnumerateOptions = {}): AsyncGenerator<CimObject, void> {
    return this.#instances(this.resourceUri(classOrUri), options.filter, options)
  }

  /**
   * The instances a WQL query selects (`SELECT … FROM <class> [WHERE …]`), enumerated from the
   * namespace's `*` resource URI with the WQL filter dialect (MS-WSMV; MS-WMI 2.2.1).
   */
  queryInstances(
    wql: string,
    options: Omit<CimEnumerateOptions, 'filter'> = {},
  ): AsyncGenerator<CimObject, void> {
    return this.#instances(this.resourceUri('*'), wqlFilter(wql), options)
  }

  async *#instances(
    resourceUri: string,
    filter: EnumerationFilter | undefined,
    options: CimEnumerateOptions,
  ): AsyncGenerator<CimObject, void> {
    const cursor = new EnumerationCursor({
      resourceUri,
      ...(filter === undefined ? {} : { filter }),
      ...(options.maxElements === undefined ? {} : { maxElements: options.maxElements }),
      ...(options.selectors === undefined ? {} : { selectors: options.selectors }),
      ...(options.options === undefined ? {} : { options: options.options }),
      ...(options.operationTimeout === undefined ? {} : { operationTimeout: options.operationTimeout }),
    })
    const parse = options.schema === undefined ? {} : { schema: options.schema }
    for await (const item of enumerateItems(this.connection, cursor, options)) {
      yield parseCimInstance(item, parse)
    }
  }

  /**
   * Calls a CIM method (on the instance named by `selectors`, or the class) and resolves with its
   * output: `ReturnValue` and the output parameters.
   */
  async invokeMethod(classOrUri: string, method: string, options: CimInvokeOptions = {}): Promise<CimObject> {
    const resourceUri = this.resourceUri(classOrUri)
    const request = cimMethodRequest(
      {
        resourceUri,
        ...(options.selectors === undefined ? {} : { selectors: options.selectors }),
        ...(options.options === undefined ? {} : { options: options.options }),
        ...(options.operationTimeout === undefined ? {} : { operationTimeout: options.operationTimeout }),
      },
      method,
      options.parameters,
    )
    const res = await this.connection.invoke(request.actionUri, resourceUri, request.body, {
      signal: options.signal,
      timeout: options.timeout,
      ...(request.selectors === undefined ? {} : { selectors: request.selectors }),
      ...(request.options === undefined ? {} : { options: request.options }),
      ...(request.operationTimeout === undefined ? {} : { operationTimeout: request.operationTimeout }),
    })
    return parseCimMethodOutput(
      res.content,
      resourceUri,
      method,
      options.schema === undefined ? {} : { schema: options.schema },
    )
  }
}
