/**
 * Copy a file to the server and fetch it back, with progress: streamed in chunks, SHA-256 verified,
 * written under a temporary name and renamed. Against a local `pwsh -s`; give `new Client()` a
 * WinRM host or a connection to do the same remotely.
 *
 * Run: `npx tsx examples/copy-fetch.ts`
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, isPsrpError, type TransferProgress } from 'psrp'

const dir = await mkdtemp(join(tmpdir(), 'psrp-example-'))
const local = join(dir, 'payload.bin')
await writeFile(local, randomBytes(3 * 1024 * 1024)) // 3 MiB

function bar(label: string): (p: TransferProgress) => void {
  let shown = -1
  return (p) => {
    const percent = Math.floor((100 * p.bytes) / Math.max(p.totalBytes, 1))
    if (percent >= shown + 25 || p.bytes === p.totalBytes) {
      shown = percent
      console.log(`${label} ${percent}% (${p.bytes} of ${p.totalBytes} bytes)`)
    }
  }
}

const client = new Client()
try {
  const remote = '$([IO.Path]::GetTempPath())psrp-example-payload.bin'
  const up = await client.copy(local, remote, {
    expandVariables: true,
    overwrite: true,
    onProgress: bar('copy'),
  })
  console.log(`copied to ${up.destination}, sha256 ${up.sha256}`)
  const back = join(dir, 'back.bin')
  const down = await client.fetch(up.destination, back, { onProgress: bar('fetch') })
  const same = (await readFile(back)).equals(await readFile(local))
  console.log(`fetched ${down.bytes} bytes, identical: ${same}`)
  try {
    await client.copy(local, up.destination) // exists, and no `overwrite`
  } catch (e) {
    if (!isPsrpError(e, 'ERR_FILE_TRANSFER')) throw e
    console.log(`refused as expected: ${e.message}`)
  }
  await client.runPs('Remove-Item -LiteralPath $p', { parameters: { p: up.destination } })
} finally {
  await client.close()
  await rm(dir, { recursive: true, force: true })
}
