/**
 * The CLIXML of the common CREATE_PIPELINE (MS-PSRP 2.2.2.10), one command without arguments and no
 * host, written from a cached template around the command text instead of through the object model.
 *
 * Every such invoke builds the same body (about 3 KB: the PowerShell object, its command with nine
 * merge settings as enums, ApartmentState, RemoteStreamOptions, HostInfo) except for the command: a
 * dozen PSObjects and their serialization each time, about 0.3 ms of the client's CPU per invoke
 * while the process warms up, and code the optimizing compiler has to compile on the way. A template
 * is the serializer's own output for a mark in place of the command, cut at the mark, so the body
 * written from it has the same bytes as the general path (checked by a differential test over
 * scripts of every character class and every templated field).
 *
 * @module
 */
import { HostInfo } from '../../clixml/index.ts'
import { encodeClixmlText } from '../../clixml/escape.ts'
import { serialize, type SerializeOptions } from '../../clixml/serialize.ts'
import { encodeCreatePipeline, type CreatePipelineMessage } from './create-pipeline.ts'

/** Stands for the command in a template; plain letters, which CLIXML text encoding leaves as they are. */
const COMMAND_MARK = 'psrpCreatePipelineTemplateCommandMark'
/** Templates kept (one per combination of the other fields; a client uses a handful). */
const TEMPLATE_LIMIT = 64
const templates = new Map<string, readonly [string, string]>()

/** The properties of the HostInfo of "no host", in the order `HostInfo.create()` writes them. */
const NULL_HOST_FLAGS = ['_isHostNull', '_isHostUINull', '_isHostRawUINull', '_useRunspaceHost']

/** True for the HostInfo of "no host" exactly as `HostInfo.create()` makes it: the four flags true, in order. */
function isNullHost(hostInfo: unknown): boolean {
  if (!(hostInfo instanceof HostInfo)) return false
  if (hostInfo.typeNames.length !== 0 || hostInfo.toStringValue !== undefined) return false
  if (hostInfo.baseValue !== undefined || hostInfo.adapted.size !== 0) return false
  if (hostInfo.extended.size !== NULL_HOST_FLAGS.length) return false
  let i = 0
  for (const [name, value] of hostInfo.extended)
    if (name !== NULL_HOST_FLAGS[i++] || value !== true) return false
  return true
}

/** The template key of a message that has one, else undefined. */
function templateKey(m: CreatePipelineMessage): string | undefined {
  if (m.statements.length !== 1) return undefined
  const [statement] = m.statements
  if (statement?.length !== 1) return undefined
  const [c] = statement
  if (c === undefined || c.args.length !== 0 || !isNullHost(m.hostInfo)) return undefined
  return JSON.stringify([
    c.isScript,
    c.useLocalScope ?? null,
    c.mergeMyResult,
    c.mergeToResult,
    c.mergePreviousResults,
    c.mergeError,
    c.mergeWarning,
    c.mergeVerbose,
    c.mergeDebug,
    c.mergeInformation,
    m.noInput,
    m.addToHistory,
    m.isNested,
    m.apartmentState,
    m.remoteStreamOptions,
    m.history ?? null,
    m.redirectShellErrorOutputPipe,
    m.protocolVersion ?? null,
  ])
}

/**
 * The CLIXML body of `m` from a template, or undefined when `m` is not of the templated kind (several
 * commands or statements, arguments, a host). Equal to `serialize(encodeCreatePipeline(m), options)`.
 */
export function createPipelineFromTemplate(
  m: CreatePipelineMessage,
  options: SerializeOptions = {},
): string | undefined {
  const key = templateKey(m)
  const command = m.statements[0]?.[0]
  if (key === undefined || command === undefined) return undefined
  let template = templates.get(key)
  if (template === undefined) {
    const marked: CreatePipelineMessage = { ...m, statements: [[{ ...command, command: COMMAND_MARK }]] }
    const text = serialize(encodeCreatePipeline(marked), options)
    const at = text.indexOf(COMMAND_MARK)
    if (at < 0 || text.indexOf(COMMAND_MARK, at + 1) >= 0) return undefined
    template = [text.slice(0, at), text.slice(at + COMMAND_MARK.length)]
    if (templates.size >= TEMPLATE_LIMIT) templates.clear()
    templates.set(key, template)
  }
  return template[0] + encodeClixmlText(command.command) + template[1]
}
