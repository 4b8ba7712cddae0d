#!/usr/bin/env node
// A stand-in for `pwsh -s` used by the process-transport tests. Usage: node fake-pwsh.mjs <mode>
//   garbage    answers the first line with a malformed (non-packet) line
//   badguid    answers the first line with a DataAck whose GUID is invalid
//   stderr     writes an error to stderr after the first line and keeps running
//   exit       exits with code 3 after the first line
//   hang       reads and never answers
//   ack        a well-behaved peer: acks every Data/Command/Signal/Close, echoes Data payloads back
//   named-pipe-error  answers with a `__NamedPipeError__:` line
import { createInterface } from 'node:readline'

const mode = process.argv[2] ?? 'ack'
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
let first = true
const out = (s) => process.stdout.write(`${s}\n`)

rl.on('line', (line) => {
  const wasFirst = first
  first = false
  if (mode === 'hang') return
  if (wasFirst) {
    if (mode === 'garbage') return out('Loading personal and system profiles took 1234ms.')
    if (mode === 'badguid') return out("<DataAck PSGuid='not-a-guid' />")
    if (mode === 'named-pipe-error') return out('__NamedPipeError__:Something broke on the server.')
    if (mode === 'stderr') return process.stderr.write('fake failure on stderr\nsecond line\n')
    if (mode === 'exit') {
      process.stderr.write('fatal: exiting\n')
      process.exit(3)
    }
  }
  const m = /^<(\w+) (?:Stream='(\w+)' )?PSGuid='([^']+)'(?: \/>|>([^<]*)<\/Data>)$/.exec(line)
  if (m === null) {
    process.stderr.write(`fake-pwsh: bad line ${line}\n`)
    process.exit(4000 & 0xff)
  }
  const [, tag, , guid, payload] = m
  if (tag === 'Data') {
    out(`<Data Stream='Default' PSGuid='${guid}'>${payload}</Data>`)
    out(`<DataAck PSGuid='${guid}' />`)
  } else {
    out(`<${tag}Ack PSGuid='${guid}' />`)
  }
})
rl.on('close', () => process.exit(0))
