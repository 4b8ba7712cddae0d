/**
 * PowerShell in a local `pwsh -s` process: typed objects back, every stream, named parameters.
 *
 * Needs PowerShell 7 on PATH (or `PSRP_PWSH=/path/to/pwsh`). Run: `npx tsx examples/local-pwsh.ts`
 */
import { Client, PSObject } from 'psrp'

const client = new Client() // no target: a local `pwsh -s`, started on first use
try {
  const { output, streams, hadErrors } = await client.runPs(
    "Write-Warning 'about to list'; Get-Process -Id $id | Select-Object ProcessName, Id",
    { parameters: { id: process.pid } },
  )
  const me = output[0]
  if (!(me instanceof PSObject)) throw new Error('expected a PSObject')
  console.log(`process ${String(me.get('ProcessName'))} has id ${String(me.get('Id'))}`)
  console.log(`warnings: ${streams.warning.map((w) => w.message).join('; ')}; hadErrors: ${hadErrors}`)
} finally {
  await client.close() // ends the pwsh
}
