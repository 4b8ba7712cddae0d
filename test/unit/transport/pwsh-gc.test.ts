/**
 * The garbage-collector settings ProcessConnection gives pwsh (src/transport/pwsh-gc.ts), as the
 * environment it builds: test/integration/pwsh.test.ts checks what a real pwsh makes of them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.ts'
import {
  addPwshGcSettings,
  checkPwshGcOptions,
  DEFAULT_GC_GEN0_BUDGET,
  DEFAULT_GC_LARGE_OBJECT_THRESHOLD,
  type PwshGcOptions,
} from '../../../src/transport/pwsh-gc.ts'

/** The environment built from `inherited` (process.env) and the options' `env` merged over it. */
function built(
  inherited: Record<string, string>,
  options: PwshGcOptions = {},
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...inherited, ...options.env }
  addPwshGcSettings(env, options)
  return env
}

test('by default both settings are added, in hexadecimal, under their DOTNET_ names', () => {
  const env = built({ PATH: '/bin' })
  assert.equal(env['DOTNET_GCgen0size'], '1000000')
  assert.equal(env['DOTNET_GCLOHThreshold'], '400000')
  assert.equal(Number.parseInt(env['DOTNET_GCgen0size'] as string, 16), DEFAULT_GC_GEN0_BUDGET)
  assert.equal(Number.parseInt(env['DOTNET_GCLOHThreshold'] as string, 16), DEFAULT_GC_LARGE_OBJECT_THRESHOLD)
  assert.equal(env['PATH'], '/bin')
  assert.equal(env['COMPlus_GCgen0size'], undefined)
})

test('given values are written; 0 leaves a setting out', () => {
  const env = built({}, { gcGen0Budget: 0x2000000, gcLargeObjectThreshold: 0 })
  assert.equal(env['DOTNET_GCgen0size'], '2000000')
  assert.equal('DOTNET_GCLOHThreshold' in env, false)
})

test('a setting the inherited environment holds, under either name, stands; the other is still added', () => {
  const dotnet = built({ DOTNET_GCgen0size: '0x800000' }, { gcGen0Budget: 0x2000000 })
  assert.equal(dotnet['DOTNET_GCgen0size'], '0x800000')
  assert.equal(dotnet['DOTNET_GCLOHThreshold'], '400000')
  const complus = built({ COMPlus_GCLOHThreshold: '30000' })
  assert.equal(complus['DOTNET_GCLOHThreshold'], undefined)
  assert.equal(complus['COMPlus_GCLOHThreshold'], '30000')
  assert.equal(complus['DOTNET_GCgen0size'], '1000000')
})

test("the caller's env naming a variable, even as undefined, keeps .NET's own", () => {
  const env = built({ DOTNET_GCgen0size: '0x800000' }, { env: { DOTNET_GCgen0size: undefined } })
  assert.equal(env['DOTNET_GCgen0size'], undefined)
  const complus = built({}, { env: { COMPlus_GCgen0size: undefined } })
  assert.equal(complus['DOTNET_GCgen0size'], undefined)
  assert.equal(complus['DOTNET_GCLOHThreshold'], '400000')
})

test('values outside .NET range are refused by name; 0 and the bounds are accepted', () => {
  assert.throws(
    () => checkPwshGcOptions({ gcGen0Budget: 65_535 }),
    (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError)
      assert.match(e.message, /^gcGen0Budget must be 0 or an integer from 65536 to 4294967296$/)
      return true
    },
  )
  assert.throws(
    () => checkPwshGcOptions({ gcLargeObjectThreshold: 84_999 }),
    /^InvalidArgumentError: gcLargeObjectThreshold/,
  )
  for (const options of [
    {},
    { gcGen0Budget: 0, gcLargeObjectThreshold: 0 },
    { gcGen0Budget: 2 ** 32, gcLargeObjectThreshold: 85_000 },
  ])
    checkPwshGcOptions(options)
})
