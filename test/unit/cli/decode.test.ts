import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { decodeFragment, encodeFragment } from '../../../src/psrp/index.ts'
import { psrpNodeArgs } from '../../helpers/cli.ts'

function decodeFragmentAt(bytes: Uint8Array, offset: number): NonNullable<ReturnType<typeof decodeFragment>> {
  const r = decodeFragment(bytes, offset)
  assert.ok(r !== undefined)
  return r
}

const seed = fileURLToPath(new URL('../../vectors/psrp/seed-creation-xml.b64', import.meta.url))
const corpus = corpusDir()
const corpusSkip = peerSkip(
  'recorded corpus',
  corpus !== undefined && existsSync(`${corpus}/pypsrp`),
  'put the shared folder beside the checkout (../shared/corpus)',
)
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [...psrpNodeArgs, ...args], {
    input,
    encoding: 'utf8',
    timeout: 30_000,
  })

test('psrp decode prints fragments, headers and CLIXML of the seed creationXml (file and stdin)', () => {
  for (const r of [run(['decode', seed]), run(['decode'], readFileSync(seed, 'utf8'))]) {
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /fragment object=1 fragment=0 start\+end blob=199 bytes/)
    assert.match(r.stdout, /fragment object=2 fragment=0 start\+end blob=765 bytes/)
    assert.match(r.stdout, /message SESSION_CAPABILITY \(0x00010002\) to server/)
    assert.match(r.stdout, /message INIT_RUNSPACEPOOL \(0x00010004\) to server/)
    assert.match(r.stdout, /as RFC 4122 bytes.*rpid=5a416ea5-fb2a-4aaa-91bf-77bf51043386/)
    assert.match(r.stdout, /\|\s+<I32 N="MinRunspaces">1<\/I32>/)
    assert.match(r.stdout, /2 message\(s\) decoded/)
  }
})

test('psrp decode reads hex and a whole WS-Man envelope', () => {
  const bytes = Buffer.from(readFileSync(seed, 'utf8').trim(), 'base64')
  const hex = run(['decode'], bytes.toString('hex').replace(/(..)/g, '$1 '))
  assert.equal(hex.status, 0, hex.stderr)
  assert.match(hex.stdout, /2 message\(s\) decoded/)
  const envelope = `<s:Envelope><s:Body><rsp:Shell><creationXml xmlns="http://schemas.microsoft.com/powershell">${bytes.toString('base64')}</creationXml></rsp:Shell></s:Body></s:Envelope>`
  const env = run(['decode'], envelope)
  assert.match(env.stdout, /== creationXml: 1006 bytes/)
})

test('psrp decode reports a partial message and bad input clearly; --version prints the package version', () => {
  const bytes = Buffer.from(readFileSync(seed, 'utf8').trim(), 'base64')
  const partial = run(['decode'], bytes.subarray(0, 500).toString('base64'))
  assert.equal(partial.status, 0)
  assert.match(partial.stdout, /trailing bytes: an incomplete fragment/)
  const bad = run(['decode'], 'not base64 !!!')
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /ERR_INVALID_ARGUMENT/)
  const v = run(['--version'])
  assert.equal(
    v.stdout.trim(),
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version,
  )
})

test('psrp decode prints a typed summary per message; --no-body leaves the CLIXML out', () => {
  const r = run(['decode', '--no-body', seed])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /= protocolVersion="2\.3", psVersion="2\.0", serializationVersion="1\.1\.0\.1"/)
  assert.match(r.stdout, /= minRunspaces=1, maxRunspaces=1, threadOptions=0, apartmentState=2/)
  assert.doesNotMatch(r.stdout, /\| <Obj/)
})

test('psrp decode reports corrupt fragments and messages in place, keeps going, and exits 1', () => {
  const bytes = Buffer.from(readFileSync(seed, 'utf8').trim(), 'base64')
  // object 9 started twice (two start-only fragments), then a message with destination 7, then the seed
  const startOnly = Buffer.from(
    encodeFragment({ objectId: 9n, fragmentId: 0n, start: true, end: false, data: Uint8Array.of(1) }),
  )
  const bad = Buffer.from(bytes)
  bad[21] = 7
  const input = [Buffer.concat([startOnly, startOnly]), bad, bytes]
    .map((b) => b.toString('base64'))
    .join('\n')
  const r = run(['decode', '--no-body'], input)
  assert.equal(r.status, 1)
  assert.match(r.stdout, /! ERR_PROTOCOL: object 9 started twice; restarting reassembly/)
  assert.match(r.stdout, /! message of 199 bytes: ERR_PROTOCOL: message destination 7/)
  assert.match(r.stdout, /4 message\(s\) decoded, 2 error\(s\)/)
})

test(
  'psrp decode reads a recorded pypsrp YAML file (envelopes inside) and summarises host calls and states',
  { skip: corpusSkip },
  () => {
    const file = `${corpus}/pypsrp/tests/tests_pypsrp/responses/test_psrp_pshost_ui_mocked_methods.yml`
    const r = run(['decode', '--no-body', file])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /== creationXml: \d+ bytes/)
    assert.match(r.stdout, /= Opened, state=2/)
    assert.match(r.stdout, /= ReadLine\(0 argument\(s\)\), callId=1, methodId=11/)
    assert.match(r.stdout, /= Completed, state=4/)
  },
)

test('psrp decode: usage errors exit 2', () => {
  const r = run(['decode', 'a', 'b'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unexpected arguments/)
  assert.equal(run(['frobnicate']).status, 2)
  assert.match(run(['--help']).stdout, /decode \[--no-body\] \[file\]/)
})

test('findBlobs reads the PSRP elements in document order, by local name and Name attribute', async () => {
  const { findBlobs } = await import('../../../src/cli/decode.ts')
  const b = (s: string): string => Buffer.from(s).toString('base64')
  const found = findBlobs(
    `<s:Envelope xmlns:s="x"><s:Body>
      <rsp:Stream CommandId="c" Name='stdin'>${b('in')}</rsp:Stream>
      <rsp:Stream Name="stderr">${b('no')}</rsp:Stream><Stream Name = "stdout" >${b('out')}</Stream>
      <rsp:Arguments>${b('args')}</rsp:Arguments><rsp:Arguments x="1">${b('no')}</rsp:Arguments>
      <creationXml xmlns="http://schemas.microsoft.com/powershell">${b('create')}</creationXml>
      <a-b:creationXml>${b('no')}</a-b:creationXml><p:connectResponseXml>${b('resp')}</p:connectResponseXml>
      <Data Stream='Default' PSGuid='00000000-0000-0000-0000-000000000000'>${b('oop')}</Data>
      <p:Data Stream='Default'>${b('no')}</p:Data><Data Stream='Default'>${b('no')}</Dat>
      <rsp:Stream Name="pr">${b('pr')}</rsp:Stream></s:Body></s:Envelope>`,
  )
  assert.deepEqual(
    found.map((x) => [x.label, x.direction, Buffer.from(x.bytes).toString()]),
    [
      ['stdin/pr stream', 'client', 'in'],
      ['stdout stream', 'server', 'out'],
      ['Command arguments', 'client', 'args'],
      ['creationXml', 'client', 'create'],
      ['connectResponseXml', 'server', 'resp'],
      ['OutOfProc Data packet', 'unknown', 'oop'],
      ['stdin/pr stream', 'client', 'pr'],
    ],
  )
})

test('a message whose first fragment is in Command arguments and the rest in a later Send reassembles', async () => {
  const { dissect } = await import('../../../src/cli/decode.ts')
  const bytes = Buffer.from(readFileSync(seed, 'utf8').trim(), 'base64')
  // the seed's second fragment (INIT_RUNSPACEPOOL, object 2) split in two fragments of the same object
  const first = decodeFragmentAt(bytes, 0)
  const second = decodeFragmentAt(bytes, first.next)
  const data = second.fragment.data
  const half = Math.floor(data.length / 2)
  const a = encodeFragment({ ...second.fragment, end: false, data: data.subarray(0, half) })
  const z = encodeFragment({ ...second.fragment, fragmentId: 1n, start: false, data: data.subarray(half) })
  const xml =
    `<s:Envelope><s:Body><rsp:CommandLine><rsp:Arguments>${Buffer.from(a).toString('base64')}</rsp:Arguments></rsp:CommandLine></s:Body></s:Envelope>\n` +
    `<s:Envelope><s:Body><rsp:Send><rsp:Stream Name="stdin">${Buffer.from(z).toString('base64')}</rsp:Stream></rsp:Send></s:Body></s:Envelope>`
  const r = dissect(xml, { bodies: false })
  assert.equal(r.errors, 0, r.text)
  assert.equal(r.messages, 1, r.text)
  assert.match(r.text, /message INIT_RUNSPACEPOOL/)
})
