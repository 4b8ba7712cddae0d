/**
 * Recordings made by other (older) clients write the same requests differently, and Windows accepted
 * them all. Each corpus recording here is rewritten into such a shape (test/helpers/mutate-recording)
 * and must still replay: the runner compares by meaning for the negotiated protocol version.
 *
 * - fields the recorded client left out that our client sends, where the spec allows them at that
 *   version (MergeInformation 2.3+, MergeError/Warning/Verbose/Debug 2.2+, MS-PSRP 2.2.3.12), are a
 *   printed tolerance, not a failure;
 * - enums sent as a bare `<I32>` equal the typed enum object of the same value;
 * - the host data our client sends is the recorded client's (RawUI colours, sizes and title).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { pypsrpRecordings } from '../../helpers/peers.ts'
import { readRecording, type Exchange } from '../../helpers/recordings.ts'
import { mutateClientMessages, type ClientMessage } from '../../helpers/mutate-recording.ts'
import { runRecording, type ReplayResult } from '../../replay/runner.ts'
import { allowedAddition } from '../../helpers/winrm-replay/session.ts'
import type { Canon } from '../../helpers/winrm-replay/psrp.ts'
import { MessageType } from '../../../src/psrp/index.ts'

const corpus = pypsrpRecordings()
const dir = corpus.dir === undefined ? undefined : join(corpus.dir, 'tests/tests_pypsrp/responses')
const skip = corpus.skip

async function replayMutated(
  name: string,
  transform: (m: ClientMessage) => string,
): Promise<{ result: ReplayResult; changed: number }> {
  const original = readRecording(join(dir as string, `${name}.yml`))
  const mutated = mutateClientMessages(original, transform)
  const changed = mutated.filter((m, i) => m.request !== (original[i] as Exchange).request).length
  const tmp = mkdtempSync(join(tmpdir(), 'psrp-older-'))
  try {
    const file = join(tmp, `${name}.yml`)
    const messages = mutated.map((ex) => ({
      request: ex.request,
      ...(ex.response === undefined ? {} : { response: ex.response }),
      ...ex.flagValues,
    }))
    writeFileSync(file, stringify({ messages }, { lineWidth: 0 }))
    return { result: await runRecording(file), changed }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

const withoutFields =
  (names: string[]) =>
  (m: ClientMessage): string =>
    m.type !== MessageType.CREATE_PIPELINE
      ? m.xml
      : m.xml.replace(new RegExp(`<Obj N="(?:${names.join('|')})" RefId="\\d+">.*?</Obj>`, 'g'), '')

test(
  'a client that sends no MergeInformation (a 2.2-era CREATE_PIPELINE) against a 2.3 server',
  { skip },
  async () => {
    const { result, changed } = await replayMutated(
      'test_psrp_with_input',
      withoutFields(['MergeInformation']),
    )
    assert.ok(changed > 0, 'the recording was rewritten')
    assert.equal(result.status, 'pass', result.problems.join('\n'))
    assert.ok(
      result.tolerances.some((t) => /MergeInformation.*protocol 2\.3/.test(t)),
      `a printed tolerance names the field: ${result.tolerances.join(' | ')}`,
    )
  },
)

test(
  'a client that merges errors the protocol 2.1 way (MergeMyResult/MergeToResult only) against 2.3',
  { skip },
  async () => {
    const { result } = await replayMutated(
      'test_psrp_merge_commands',
      withoutFields(['MergeError', 'MergeWarning', 'MergeVerbose', 'MergeDebug', 'MergeInformation']),
    )
    assert.equal(result.status, 'pass', result.problems.join('\n'))
    assert.ok(
      result.tolerances.some((t) => /CREATE_PIPELINE MergeError .*same meaning/.test(t)),
      result.tolerances.join(' | '),
    )
  },
)

test('an added field that changes the meaning is a difference, not a tolerance', () => {
  const cmd = (mmr: number, mtr: number): { [k: string]: Canon } => ({
    MergeMyResult: { I32: String(mmr) },
    MergeToResult: { I32: String(mtr) },
  })
  const path = 'PowerShell.Cmds[0].MergeError'
  assert.match(allowedAddition('CREATE_PIPELINE', path, { I32: '1' }, cmd(2, 1), '2.3') ?? '', /MergeError/)
  assert.equal(allowedAddition('CREATE_PIPELINE', path, { I32: '1' }, cmd(0, 0), '2.3'), undefined)
  assert.match(
    allowedAddition('CREATE_PIPELINE', 'x.MergeInformation', { I32: '0' }, {}, '2.3') ?? '',
    /2\.3 field/,
  )
  // merging information into output is not what a client that never mentioned it asked for
  assert.equal(allowedAddition('CREATE_PIPELINE', 'x.MergeInformation', { I32: '1' }, {}, '2.3'), undefined)
  // a field the session's version does not have is never tolerated
  assert.equal(allowedAddition('CREATE_PIPELINE', 'x.MergeInformation', { I32: '0' }, {}, '2.2'), undefined)
  assert.equal(allowedAddition('CREATE_PIPELINE', 'x.MergeWarning', { I32: '0' }, {}, '2.1'), undefined)
  assert.equal(allowedAddition('INIT_RUNSPACEPOOL', 'x.MergeWarning', { I32: '0' }, {}, '2.3'), undefined)
})

test('enums written as a bare <I32> equal the typed enum object', { skip }, async () => {
  const bare = (m: ClientMessage): string =>
    m.xml.replace(
      /<Obj N="([^"]+)" RefId="\d+">(?:<TN RefId="\d+">(?:<T>[^<]*<\/T>)*<T>System\.Enum<\/T>(?:<T>[^<]*<\/T>)*<\/TN>|<TNRef RefId="\d+" ?\/>)<ToString>[^<]*<\/ToString><I32>(-?\d+)<\/I32><\/Obj>/g,
      '<I32 N="$1">$2</I32>',
    )
  const { result, changed } = await replayMutated('test_psrp_with_input', bare)
  assert.ok(changed > 0, 'the recording was rewritten')
  assert.equal(result.status, 'pass', result.problems.join('\n'))
})

/** HostInfo with RawUI data (MS-PSRP 2.2.3.14) whose values differ from our DefaultHost's. */
const OLD_HOST_INFO =
  '<Obj N="HostInfo" RefId="900"><MS><Obj N="_hostDefaultData" RefId="901"><MS><Obj N="data" RefId="902">' +
  '<TN RefId="900"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT>' +
  [
    [0, 'System.ConsoleColor', '<I32 N="V">14</I32>'],
    [1, 'System.ConsoleColor', '<I32 N="V">1</I32>'],
    [
      2,
      'System.Management.Automation.Host.Coordinates',
      '<Obj N="V" RefId="911"><MS><I32 N="x">3</I32><I32 N="y">17</I32></MS></Obj>',
    ],
    [
      3,
      'System.Management.Automation.Host.Coordinates',
      '<Obj N="V" RefId="912"><MS><I32 N="x">0</I32><I32 N="y">5</I32></MS></Obj>',
    ],
    [4, 'System.Int32', '<I32 N="V">25</I32>'],
    [
      5,
      'System.Management.Automation.Host.Size',
      '<Obj N="V" RefId="913"><MS><I32 N="width">200</I32><I32 N="height">9001</I32></MS></Obj>',
    ],
    [
      6,
      'System.Management.Automation.Host.Size',
      '<Obj N="V" RefId="914"><MS><I32 N="width">200</I32><I32 N="height">60</I32></MS></Obj>',
    ],
    [
      7,
      'System.Management.Automation.Host.Size',
      '<Obj N="V" RefId="915"><MS><I32 N="width">201</I32><I32 N="height">61</I32></MS></Obj>',
    ],
    [
      8,
      'System.Management.Automation.Host.Size',
      '<Obj N="V" RefId="916"><MS><I32 N="width">300</I32><I32 N="height">90</I32></MS></Obj>',
    ],
    [9, 'System.String', '<S N="V">Administrator: old client</S>'],
  ]
    .map(
      ([k, t, v], i) =>
        `<En><I32 N="Key">${String(k)}</I32><Obj N="Value" RefId="${920 + i}"><MS><S N="T">${String(t)}</S>${String(v)}</MS></Obj></En>`,
    )
    .join('') +
  '</DCT></Obj></MS></Obj><B N="_isHostNull">false</B><B N="_isHostUINull">false</B>' +
  '<B N="_isHostRawUINull">false</B><B N="_useRunspaceHost">false</B></MS></Obj>'

test(
  'the host data our client sends is the recorded client’s (RawUI colours, sizes, title)',
  { skip },
  async () => {
    const withHost = (m: ClientMessage): string =>
      m.type === MessageType.INIT_RUNSPACEPOOL || m.type === MessageType.CREATE_PIPELINE
        ? m.xml.replace(
            /<Obj N="HostInfo" RefId="\d+"><MS>(?:(?!<\/MS><\/Obj>).)*<\/MS><\/Obj>/,
            OLD_HOST_INFO,
          )
        : m.xml
    const { result, changed } = await replayMutated('test_psrp_pshost_methods', withHost)
    assert.ok(changed > 0, 'the recording was rewritten')
    assert.equal(result.status, 'pass', result.problems.join('\n'))
  },
)
