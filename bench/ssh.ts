/**
 * SSH part of `npm run bench`: invoke latency and output throughput of psrp's in-process SSH client
 * ({@link SSHConnection}) and of PowerShell's own SSH remoting (`New-PSSession -HostName …
 * -KeyFilePath …` + `Invoke-Command -Session`, which runs the `ssh` binary), both against the same
 * private sshd (test/peers/sshd) in the same run, both reusing one session. Prints figures and
 * ratios; never fails on numbers. Needs root, openssh-server and openssh-client.
 *
 * Sizes (full / `--quick`): `PSRP_BENCH_SSH_INVOKES` (300 / 100 sequential invokes of `1`),
 * `PSRP_BENCH_SSH_STREAM` (200,000 / 50,000 integers streamed). Row tags: `ssh`, `invoke`, `stream`.
 */
import { spawnSync } from 'node:child_process'
import { PowerShell, RunspacePool, SSHConnection } from '../src/index.ts'
import { findSshClient, sshdUnavailable, startSshd, type SshdPeer } from '../test/peers/sshd/index.ts'
import { report, say, size, wants } from './report.ts'

interface SshWorkload {
  /** Row tag: `invoke` or `stream`. */
  readonly key: 'invoke' | 'stream'
  readonly name: string
  readonly script: string
  readonly repeat: number
  readonly objects: number
}

function workloads(): SshWorkload[] {
  const invokes = size('PSRP_BENCH_SSH_INVOKES', 300, 100)
  const stream = size('PSRP_BENCH_SSH_STREAM', 200_000, 50_000)
  return [
    { key: 'invoke', name: `${invokes} sequential invokes of 1`, script: '1', repeat: invokes, objects: 1 },
    { key: 'stream', name: `1..${stream} streamed`, script: `1..${stream}`, repeat: 1, objects: stream },
  ]
}

async function measureOurs(peer: SshdPeer, list: SshWorkload[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const conn = new SSHConnection({
    host: peer.host,
    port: peer.port,
    username: peer.username,
    privateKeyPath: peer.privateKeyPath,
    hostKey: { knownHosts: peer.knownHostsPath },
    sshConfig: false,
  })
  await using pool = await RunspacePool.open(conn, { timeout: 60_000 })
  await new PowerShell(pool).addScript('1').invoke() // warm-up
  for (const w of list) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < w.repeat; i++) {
      let n = 0
      for await (const _ of new PowerShell(pool).addScript(w.script).stream()) n++
      if (n !== w.objects) throw new Error(`${w.name}: got ${n} objects, expected ${w.objects}`)
    }
    out.set(w.name, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return out
}

function measurePowerShell(pwsh: string, peer: SshdPeer, list: SshWorkload[]): Map<string, number> | string {
  const q = (s: string): string => `'${s.replace(/'/g, "''")}'`
  const cases = list
    .map(
      (w) =>
        `@{ Name = ${q(w.name)}; Script = ${q(w.script)}; Repeat = ${w.repeat}; Objects = ${w.objects} }`,
    )
    .join(',\n')
  const script = `
$ErrorActionPreference = 'Stop'
$s = New-PSSession -HostName ${q(peer.host)} -Port ${peer.port} -UserName ${q(peer.username)} -KeyFilePath ${q(peer.privateKeyPath)} -Options @{ BatchMode = 'yes'; StrictHostKeyChecking = 'yes'; UserKnownHostsFile = ${q(peer.knownHostsPath)} }
$null = Invoke-Command -Session $s -ScriptBlock { 1 }
foreach ($case in @(${cases})) {
  $sb = [scriptblock]::Create($case.Script)
  $sw = [Diagnostics.Stopwatch]::StartNew()
  for ($i = 0; $i -lt $case.Repeat; $i++) {
    $result = @(Invoke-Command -Session $s -ScriptBlock $sb)
    if ($result.Count -ne $case.Objects) { throw "$($case.Name): got $($result.Count) objects" }
  }
  "TIMING|$($case.Name)|$($sw.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture))"
}
Remove-PSSession $s
`
  const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], {
    encoding: 'utf8',
    timeout: 1_800_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
  })
  const out = new Map<string, number>()
  for (const m of r.stdout.matchAll(/^TIMING\|(.+)\|([\d.]+)\s*$/gm)) out.set(m[1] as string, Number(m[2]))
  if (r.status !== 0 || out.size !== list.length) return r.stderr || r.stdout || `exit ${r.status}`
  return out
}

/** Runs the SSH benchmarks against a private sshd and prints their rows (or why they were skipped). */
export async function benchSsh(pwsh: string | undefined): Promise<void> {
  const list = workloads().filter((w) => wants('ssh', w.key))
  if (list.length === 0) return
  if (pwsh === undefined) {
    say('pwsh not found: SSH benchmarks skipped')
    return
  }
  const missing = sshdUnavailable()
  if (missing !== undefined) {
    say(`SSH benchmarks skipped: ${missing}`)
    return
  }
  const peer = await startSshd({ pwsh })
  try {
    say(`remoting over SSH (private sshd on 127.0.0.1:${peer.port}, powershell subsystem, ed25519 key)`)
    const ours = await measureOurs(peer, list)
    const theirs =
      findSshClient() === undefined
        ? 'the ssh client is missing (apt-get install openssh-client)'
        : measurePowerShell(pwsh, peer, list)
    if (typeof theirs === 'string') say(`PowerShell SSH client comparison failed: ${theirs}`)
    for (const w of list) {
      const ms = ours.get(w.name) as number
      const ps = typeof theirs === 'string' ? undefined : theirs.get(w.name)
      const perCall = w.repeat > 1
      const value = (t: number): number => (perCall ? t / w.repeat : (w.objects / t) * 1000)
      report({
        name: w.key === 'invoke' ? 'invoke 1, SSH' : 'stream 1..n, SSH',
        unit: perCall ? 'ms/call' : 'obj/s',
        psrp: value(ms),
        peer: ps === undefined ? null : value(ps),
        peerName: 'Invoke-Command -HostName (ssh binary)',
        better: perCall ? 'lower' : 'higher',
        params: perCall ? { calls: w.repeat } : { objects: w.objects },
      })
    }
  } finally {
    await peer.close()
  }
}
