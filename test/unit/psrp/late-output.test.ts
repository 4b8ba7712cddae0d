/**
 * Output that arrives for a pipeline after the client removed it: a stopped pipeline's fragments are
 * still in flight when its stream is aborted (an aborted fetch of a big file). The rest of an object
 * begun before the removal is skipped; it must not break the pool with "fragment N of object M
 * arrived without its start fragment", and whole late messages are still reported under the id.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClientRunspacePool, pipelineCommand, Defragmenter, type PsrpEvent } from '../../../src/psrp/index.ts'
import { openPair, pump, sequentialGuids } from '../../helpers/psrp-server.ts'

/** Splits a byte stream of encoded fragments at fragment boundaries (21-byte header, u32 BE length). */
function fragments(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < data.length;) {
    const length = new DataView(data.buffer, data.byteOffset + i + 17, 4).getUint32(0)
    out.push(data.subarray(i, i + 21 + length))
    i += 21 + length
  }
  return out
}

test('late output of a removed pipeline: the tail of a begun object is skipped, the pool keeps working', () => {
  const { client: pool, server } = openPair(
    () =>
      new ClientRunspacePool({
        id: '0badc0de-0000-4000-8000-000000000002',
        guid: sequentialGuids('dddddddd'),
      }),
  )
  const p = pool.createPipeline({ statements: [[pipelineCommand({ command: 'Get-Content' })]] })
  p.start()
  pump(pool, server)
  // a 100 kB output in 4 kB fragments: the client sees its first fragment, then forgets the pipeline
  server.send('PIPELINE_OUTPUT', { value: 'x'.repeat(100_000) }, p.id)
  const [chunk] = server.take(4096)
  assert.ok(chunk !== undefined)
  const parts = fragments(chunk.data)
  assert.ok(parts.length > 10)
  pool.receiveData(parts[0] as Uint8Array, p.id)
  pool.removePipeline(p.id)
  for (const part of parts.slice(1)) pool.receiveData(part, p.id)
  // a whole message after the removal is still reported under the pipeline's id
  server.send('PIPELINE_OUTPUT', { value: 'late' }, p.id)
  const events: PsrpEvent[] = pump(pool, server, { serverFragmentSize: 4096 })
  const out = events.filter((e) => e.type === 'pipelineOutput')
  assert.deepEqual(
    out.map((e) => [e.pipelineId, e.value]),
    [[p.id, 'late']],
  )
  // and the pool still runs pipelines
  const q = pool.createPipeline({ statements: [[pipelineCommand({ command: 'Get-Date' })]] })
  q.start()
  pump(pool, server)
  server.send('PIPELINE_OUTPUT', { value: 'next' }, q.id)
  const next = pump(pool, server).filter((e) => e.type === 'pipelineOutput')
  assert.equal(next[0]?.value, 'next')
})

test('Defragmenter: orphan fragments are an error by default, skipped with skipOrphans', () => {
  const { client: pool, server } = openPair(
    () =>
      new ClientRunspacePool({
        id: '0badc0de-0000-4000-8000-000000000003',
        guid: sequentialGuids('eeeeeeee'),
      }),
  )
  const p = pool.createPipeline({ statements: [[pipelineCommand({ command: 'Get-Content' })]] })
  p.start()
  pump(pool, server)
  server.send('PIPELINE_OUTPUT', { value: 'y'.repeat(20_000) }, p.id)
  server.send('PIPELINE_OUTPUT', { value: 'whole' }, p.id)
  const parts = fragments((server.take(4096)[0] as { data: Uint8Array }).data)
  const tail = parts.slice(1)
  assert.throws(() => {
    const d = new Defragmenter()
    for (const part of tail) d.push(part)
  }, /arrived without its start fragment/)
  const d = new Defragmenter({ skipOrphans: true })
  const done = tail.flatMap((part) => d.push(part))
  assert.equal(done.length, 1, 'only the whole message comes out')
  assert.equal(d.incompleteObjects, 0)
})
