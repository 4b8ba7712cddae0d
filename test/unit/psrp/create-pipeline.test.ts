/**
 * CREATE_PIPELINE (MS-PSRP 2.2.2.10, PowerShell object 2.2.3.11, Command 2.2.3.12): statements,
 * arguments, merge settings and the ExtraCmds batching form PowerShell uses for several statements.
 *
 * How PowerShell batches statements (checked against pwsh 7.6.9): `AddStatement()` makes the
 * PowerShell object "batching"; `SetupAsyncBatchExecution` then sets `ExtraCommands` to *every*
 * statement and `Commands` to the first one, and `ToPSObjectForRemoting` writes them as `ExtraCmds`
 * and `Cmds`. The server runs `Cmds` and then `ExtraCmds[1..]`. psrpcore and pypsrp write the same
 * form (test/vectors/psrp/pypsrp-create-pipeline-two-statements.xml).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import {
  pipelineCommand,
  decodeMessageBody,
  encodeMessageBody,
  MessageType,
} from '../../../src/psrp/index.ts'
import type { PSObject } from '../../../src/clixml/index.ts'
import { deserialize, serialize } from '../../../src/clixml/index.ts'
import { canonicalClixml } from '../../helpers/clixml-tree.ts'
import { sampleMessages } from './samples.ts'

const CP = MessageType.CREATE_PIPELINE
const base = sampleMessages.CREATE_PIPELINE
const first = [pipelineCommand({ command: "'first'", isScript: true })]
const second = [pipelineCommand({ command: "'second'", isScript: true })]

const ps = (xml: string): PSObject => (deserialize(xml) as PSObject).get('PowerShell') as PSObject

test('one statement: Cmds only, no ExtraCmds; every command field on the wire', () => {
  const xml = encodeMessageBody('CREATE_PIPELINE', { ...base, statements: [base.statements[0]!] })
  const p = ps(xml)
  assert.equal(p.has('ExtraCmds'), false)
  const cmds = p.get('Cmds') as PSObject[]
  assert.equal(cmds.length, 2)
  const [getItem] = cmds
  assert.equal(getItem!.get('Cmd'), 'Get-Item')
  assert.equal(getItem!.get('IsScript'), false)
  assert.equal(getItem!.get('UseLocalScope'), null)
  const args = getItem!.get('Args') as PSObject[]
  assert.deepEqual(
    args.map((a) => [a.get('N'), a.get('V')]),
    [
      ['Path', 'C:\\'],
      [null, 5],
    ],
  )
  for (const k of [
    'MergeMyResult',
    'MergeToResult',
    'MergePreviousResults',
    'MergeError',
    'MergeWarning',
    'MergeVerbose',
    'MergeDebug',
    'MergeInformation',
  ]) {
    assert.ok(getItem!.has(k), k)
  }
  const top = deserialize(xml) as PSObject
  for (const k of [
    'NoInput',
    'ApartmentState',
    'RemoteStreamOptions',
    'AddToHistory',
    'HostInfo',
    'PowerShell',
    'IsNested',
  ]) {
    assert.ok(top.has(k), k)
  }
  for (const k of ['Cmds', 'IsNested', 'History', 'RedirectShellErrorOutputPipe']) assert.ok(p.has(k), k)
})

test('one statement round-trips to the same typed fields', () => {
  const fields = { ...base, statements: [base.statements[0]!] }
  const d = decodeMessageBody(CP, encodeMessageBody('CREATE_PIPELINE', fields))
  assert.ok(d.type === 'CREATE_PIPELINE')
  assert.deepEqual(d.fields.statements, fields.statements)
  assert.equal(d.fields.history, 'Get-Item')
})

// Before, only statements 2..n went into ExtraCmds: pwsh 7.6 then ran statement 1 and skipped statement 2
// (3 statements printed first,third; 2 statements hung).
test('several statements are written the way PowerShell batches them: ExtraCmds = every statement, Cmds = the first', () => {
  const p = ps(encodeMessageBody('CREATE_PIPELINE', { ...base, statements: [first, second] }))
  const extra = p.get('ExtraCmds') as PSObject[]
  assert.equal(extra.length, 2)
  const cmdsOf = (o: PSObject): string => canonicalClixml(serialize(o.get('Cmds')))
  assert.equal(cmdsOf(extra[0]!), canonicalClixml(serialize(p.get('Cmds'))))
  assert.equal(((extra[1]!.get('Cmds') as PSObject[])[0] as PSObject).get('Cmd'), "'second'")
})

test('a PowerShell/pypsrp batch (ExtraCmds holding both statements) decodes to exactly those two statements', () => {
  const xml = readFileSync(
    new URL('../../vectors/psrp/pypsrp-create-pipeline-two-statements.xml', import.meta.url),
    'utf8',
  )
  const d = decodeMessageBody(CP, xml)
  assert.ok(d.type === 'CREATE_PIPELINE')
  assert.equal(d.fields.statements.length, 2)
  assert.equal(d.fields.statements[0]?.[0]?.mergeMyResult, 2)
  assert.equal(d.fields.statements[0]?.[0]?.mergePreviousResults, 3)
})

test('the pypsrp batch vector: merge settings, stream options and host info decode', () => {
  const xml = readFileSync(
    new URL('../../vectors/psrp/pypsrp-create-pipeline-two-statements.xml', import.meta.url),
    'utf8',
  )
  const d = decodeMessageBody(CP, xml)
  assert.ok(d.type === 'CREATE_PIPELINE')
  assert.equal(d.fields.noInput, true)
  assert.equal(d.fields.addToHistory, false)
  assert.equal(d.fields.isNested, false)
  assert.equal(d.fields.apartmentState, 2)
  assert.equal(d.fields.remoteStreamOptions, 15)
  const cmd = d.fields.statements[0]?.[0]
  assert.ok(cmd?.isScript)
  assert.equal(cmd?.useLocalScope, undefined)
  assert.deepEqual(
    [
      cmd?.mergeMyResult,
      cmd?.mergeToResult,
      cmd?.mergePreviousResults,
      cmd?.mergeError,
      cmd?.mergeInformation,
    ],
    [2, 1, 3, 1, 1],
  )
  // the decoded body keeps everything for a lossless re-serialization
  assert.equal(canonicalClixml(serialize(d.body)), canonicalClixml(xml))
})
