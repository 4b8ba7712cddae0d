/**
 * Per-invocation pipeline settings (issue 16 item 10) against a real `pwsh -s`: history text and
 * AddToHistory seen by `Get-History`, invocation info on records by default, the apartment state and
 * RedirectShellErrorOutputPipe as sent (PowerShell on Linux has no COM apartments to show them).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Client, InvalidArgumentError, PowerShell, type InformationalRecord } from '../../src/index.ts'
import type { PipelineSpec } from '../../src/psrp/index.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)

describe('pipeline options over a local pwsh', { skip }, () => {
  test(
    'addToHistory with a history text: Get-History shows the text, or the script without one',
    { timeout: 60_000 },
    async () => {
      await using client = new Client({ local: true, executable: pwsh as string })
      await client.runPs('1', { addToHistory: true, history: 'my history text' })
      await client.runPs('"not recorded"')
      await client.runPs('2 + 2', { addToHistory: true })
      assert.deepEqual((await client.runPs('Get-History | ForEach-Object CommandLine')).output, [
        'my history text',
        '2 + 2',
      ])
    },
  )

  test(
    'invocation info is on by default (warnings carry it) and can be turned off',
    { timeout: 60_000 },
    async () => {
      await using client = new Client({ local: true, executable: pwsh as string })
      const on = await client.runPs('Write-Warning w')
      const onRecord = on.streams.warning[0] as InformationalRecord
      assert.notEqual(onRecord.invocationInfo, undefined)
      const off = await client.runPs('Write-Warning w', { addInvocationInfo: false })
      assert.equal((off.streams.warning[0] as InformationalRecord).invocationInfo, undefined)
      const pool = await client.pool()
      const ps = new PowerShell(pool).addScript('Write-Verbose v -Verbose').addInvocationInfo(false)
      await ps.invoke()
      assert.equal((ps.streams.verbose[0] as InformationalRecord).invocationInfo, undefined)
    },
  )

  test(
    'apartment state and RedirectShellErrorOutputPipe are sent per invoke; the server runs them',
    { timeout: 60_000 },
    async () => {
      await using client = new Client({ local: true, executable: pwsh as string })
      const pool = await client.pool()
      const specs: PipelineSpec[] = []
      const create = pool.createPipeline.bind(pool)
      pool.createPipeline = (spec: PipelineSpec) => {
        specs.push(spec)
        return create(spec)
      }
      const out = await client.runPs('"ran"', { apartmentState: 'STA', redirectShellErrorOutputPipe: false })
      assert.deepEqual(out.output, ['ran'])
      await client.runPs('1', { apartmentState: 'MTA' })
      await client.runPs('1')
      assert.deepEqual(
        specs.map((s) => [s.apartmentState, s.redirectShellErrorOutputPipe]),
        [
          [0, false],
          [1, undefined],
          [undefined, undefined],
        ],
      )
      await assert.rejects(client.runPs('1', { apartmentState: 'sta' as 'STA' }), InvalidArgumentError)
    },
  )
})
