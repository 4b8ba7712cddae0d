/**
 * findPipeForPid (src/transport/named-pipe.ts) in a temp dir of its own: process ids are reused and a
 * killed pwsh leaves its socket behind, so a socket named for the pid that predates the process is
 * not its pipe; the one made since it started is.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TransportError } from '../../../src/errors.ts'
import { findPipeForPid } from '../../../src/transport/named-pipe.ts'

const linux = process.platform === 'linux' ? false : 'reads process start times from /proc (Linux)'

test('a socket left by an earlier process with the same pid is passed over', { skip: linux }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-pipes-'))
  try {
    const pid = process.pid
    const stale = `CoreFxPipe_PSHost.AAAA0001.${pid}.None.pwsh`
    writeFileSync(join(dir, stale), '')
    const hourAgo = new Date(Date.now() - 3_600_000 - process.uptime() * 1000)
    utimesSync(join(dir, stale), hourAgo, hourAgo)
    await assert.rejects(findPipeForPid(pid, dir), TransportError, 'only a stale socket: no pipe yet')

    const live = `CoreFxPipe_PSHost.BBBB0002.${pid}.None.pwsh`
    writeFileSync(join(dir, live), '')
    assert.equal(await findPipeForPid(pid, dir), join(dir, live))
    // whatever order the directory lists them in
    const older = `CoreFxPipe_PSHost.00000000.${pid}.None.pwsh`
    writeFileSync(join(dir, older), '')
    utimesSync(join(dir, older), hourAgo, hourAgo)
    assert.equal(await findPipeForPid(pid, dir), join(dir, live))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
