/**
 * The CREATE_PIPELINE template (src/psrp/messages/create-pipeline-template.ts) against the general
 * path: for every templated combination of fields and commands of every character class, the body
 * has the same bytes as `serialize(encodeCreatePipeline(m))`; what it does not template it refuses.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HostInfo, serialize } from '../../../src/clixml/index.ts'
import { createPipelineFromTemplate } from '../../../src/psrp/messages/create-pipeline-template.ts'
import {
  encodeCreatePipeline,
  type CreatePipelineMessage,
  type PipelineCommand,
} from '../../../src/psrp/messages/create-pipeline.ts'
import { encodeMessageBodyParts, pipelineCommand } from '../../../src/psrp/index.ts'

const general = (m: CreatePipelineMessage): string => serialize(encodeCreatePipeline(m))

const message = (
  command: PipelineCommand,
  over: Partial<CreatePipelineMessage> = {},
): CreatePipelineMessage => ({
  statements: [[command]],
  noInput: true,
  addToHistory: false,
  isNested: false,
  apartmentState: 2,
  remoteStreamOptions: 0,
  hostInfo: HostInfo.create(),
  redirectShellErrorOutputPipe: true,
  ...over,
})

const COMMANDS = [
  '',
  '$null',
  'Get-Process | Select-Object -First 3',
  `'a' + "b" & <tag> "quoted" 'single'`,
  'line one\r\nline two\rthree\nfour\ttab',
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(''),
  '_x0041_ literal escape-like text _X00e9_',
  'psrpCreatePipelineTemplateCommandMark', // the template's own mark, as a script
  'lone surrogates \ud800 and \udfff, a pair 😀, BMP ü € 中',
  '\ufffe\uffff end',
  'x'.repeat(200_000),
]

test('every templated field combination writes the bytes of the general path', () => {
  let compared = 0
  for (const isScript of [true, false])
    for (const useLocalScope of [undefined, true, false])
      for (const merges of [0, 1, 2])
        for (const protocolVersion of [undefined, '2.1', '2.2', '2.3'])
          for (const over of [
            {},
            { noInput: false, addToHistory: true },
            { isNested: true, apartmentState: 0, remoteStreamOptions: 15 },
            { history: 'h & <i>', redirectShellErrorOutputPipe: false },
          ]) {
            const command = pipelineCommand({
              command: COMMANDS[compared % COMMANDS.length] as string,
              isScript,
              useLocalScope,
              mergeMyResult: merges,
              mergeToResult: merges === 0 ? 0 : 1,
              mergePreviousResults: merges,
              mergeError: merges,
              mergeWarning: merges,
              mergeVerbose: merges,
              mergeDebug: merges,
              mergeInformation: merges,
            })
            const m = message(command, {
              ...over,
              ...(protocolVersion === undefined ? {} : { protocolVersion }),
            })
            assert.equal(createPipelineFromTemplate(m), general(m))
            compared++
          }
  assert.equal(compared, 2 * 3 * 3 * 4 * 4)
})

test('every command text, through the message encoder, as the general path writes it', () => {
  for (const command of COMMANDS) {
    const m = message(pipelineCommand({ command, isScript: true }))
    assert.deepEqual(encodeMessageBodyParts('CREATE_PIPELINE', m), [general(m)])
  }
})

test('arguments, several commands or statements and any host are left to the general path', () => {
  const c = pipelineCommand({ command: 'Get-Item', args: [{ name: 'Path', value: '/' }] })
  const plain = pipelineCommand({ command: 'Get-Item' })
  const reordered = new HostInfo({
    extended: [
      ['_isHostUINull', true],
      ['_isHostNull', true],
      ['_isHostRawUINull', true],
      ['_useRunspaceHost', true],
    ],
  })
  const cases: Record<string, CreatePipelineMessage> = {
    arguments: message(c),
    'two commands': { ...message(plain), statements: [[plain, plain]] },
    'two statements': { ...message(plain), statements: [[plain], [plain]] },
    'a host': message(plain, { hostInfo: HostInfo.create({ defaultData: new Map([[9, 'title']]) }) }),
    'flags not all true': message(plain, { hostInfo: HostInfo.create({ useRunspaceHost: false }) }),
    'flags in another order': message(plain, { hostInfo: reordered }),
    'not a HostInfo': message(plain, { hostInfo: null }),
  }
  for (const [name, m] of Object.entries(cases)) {
    assert.equal(createPipelineFromTemplate(m), undefined, name)
    assert.deepEqual(encodeMessageBodyParts('CREATE_PIPELINE', m), [general(m)], name)
  }
})
