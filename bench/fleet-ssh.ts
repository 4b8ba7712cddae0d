/**
 * Fleet over real SSH targets, both clients in the same run: psrp's `runOnHosts` at throttle 32 and
 * PowerShell's `Invoke-Command -HostName a,b,c …` (which runs one `ssh` binary per host, through the
 * same throttle manager at its default limit, 32), each running `Get-Date` on N targets and closing
 * them again. The N targets are N loopback addresses (127.0.0.1, 127.0.0.2 …) that one private sshd
 * (test/peers/sshd) listens on, so that every target is a distinct host name to both clients and each
 * opens its own SSH connection, with its own `pwsh -sshs` on the server side; the sshd log is counted
 * to check that both sides really opened N sessions. Prints the wall time of each side (the row: hosts
 * per second), psrp's p50/p99 per host, and each client's CPU time; never fails on numbers. Needs root,
 * openssh-server and openssh-client.
 *
 * Size (full / `--quick`): `PSRP_BENCH_FLEET_SSH` (16 / 8 targets). Row tags: `fleet`, `ssh`,
 * `throttle-32`.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runOnHosts } from '../src/index.ts'
import { findSshClient, sshdUnavailable, startSshd, type SshdPeer } from '../test/peers/sshd/index.ts'
import { report, say, size, wants } from './report.ts'

const THROTTLE = 32
const SCRIPT = 'Get-Date'
/** Milliseconds one host may take on our side; PowerShell's whole run is bounded by {@link PWSH_TIMEOUT}. */
const PER_HOST_TIMEOUT = 300_000
const PWSH_TIMEOUT = 1_800_000
/** Milliseconds to wait for the sessions of a run to end before reading the server's figures. */
const SESSION_EXIT_WAIT = 10_000
/** `getconf CLK_TCK`: the unit of the times in /proc/<pid>/stat (100 on Linux). */
const CLOCK_TICKS = 100

/** The i-th loopback address (0-based): 127.0.0.1 … 127.0.0.250, then 127.0.1.1 …. */
function loopback(i: number): string {
  return `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`
}

/** What the sshd log says about the sessions accepted so far. */
function sessionsIn(log: string): { accepted: number; addresses: Set<string> } {
  const addresses = new Set<string>()
  for (const m of log.matchAll(/^Connection from \S+ port \d+ on (\S+) port \d+/gm))
    addresses.add(m[1] as string)
  return { accepted: [...log.matchAll(/^Accepted publickey for /gm)].length, addresses }
}

/** What the sshd saw while one client ran: sessions accepted, and on how many of its addresses. */
interface Sessions {
  readonly sessions: number
  readonly addresses: number
  /** Milliseconds the server's sessions outlived the client's run (the client did not wait for them). */
  readonly lingerMs: number
}

/** Runs `fn` (one client's run) and counts the sessions the sshd accepted meanwhile, once they have ended. */
async function watchSessions<T>(peer: SshdPeer, fn: () => Promise<T>): Promise<[T, Sessions]> {
  const logBefore = peer.log().length
  const value = await fn()
  // the sessions end (and sshd logs them) once the client has closed them
  const returned = performance.now()
  while (peer.sessionPids().length > 0 && performance.now() < returned + SESSION_EXIT_WAIT)
    await new Promise((resolve) => setTimeout(resolve, 20))
  const lingerMs = performance.now() - returned
  const { accepted, addresses } = sessionsIn(peer.log().slice(logBefore))
  return [value, { sessions: accepted, addresses: addresses.size, lingerMs }]
}

function describe(s: Sessions, warmUps = 0): string {
  const count = warmUps === 0 ? `${s.sessions}` : `${s.sessions - warmUps} (+${warmUps} warm-up)`
  return (
    `${count} sessions on ${s.addresses} addresses, ` +
    `the last ended ${s.lingerMs.toFixed(0)} ms after the client returned`
  )
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

interface OurRun {
  readonly totalMs: number
  /** CPU seconds of this process (SSH included: it runs in-process) over the run. */
  readonly cpuSeconds: number
  readonly durations: number[]
  readonly failures: string[]
}

async function runOurs(peer: SshdPeer, hosts: string[], knownHosts: string): Promise<OurRun> {
  const durations: number[] = []
  const failures: string[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for await (const r of runOnHosts(
    hosts.map((h) => `ssh://${peer.username}@${h}:${peer.port}`),
    SCRIPT,
    {
      throttle: THROTTLE,
      perHostTimeout: PER_HOST_TIMEOUT,
      ssh: {
        privateKeyPath: peer.privateKeyPath,
        hostKey: { knownHosts },
        sshConfig: false,
        agent: false,
      },
    },
  )) {
    durations.push(r.durationMs)
    if (!r.ok) failures.push(`${r.host}: ${r.error.message}`)
    else if (r.output?.length !== 1) failures.push(`${r.host}: ${r.output?.length ?? 0} objects`)
  }
  const totalMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  return { totalMs, cpuSeconds, durations: durations.sort((a, b) => a - b), failures }
}

/** Runs pwsh to completion without blocking the event loop (the sshd log must keep draining). */
function runPwsh(
  pwsh: string,
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t))
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
    const timer = setTimeout(() => child.kill('SIGKILL'), PWSH_TIMEOUT)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** PowerShell's timed call. */
interface PowerShellRun {
  readonly ms: number
  /** CPU seconds of pwsh and the `ssh` processes it reaped, over the timed call. */
  readonly cpuSeconds: number
}

/**
 * PowerShell's side: one pwsh that warms up on the first host (so that .NET's JIT and module loading
 * are not measured), then times `Invoke-Command -HostName` over all of them with a Stopwatch.
 * Its CPU time over the timed call is read from /proc/self/stat: pwsh's own, plus that of the `ssh`
 * processes it has reaped. Resolves with the milliseconds and CPU seconds, or why it failed.
 */
async function runPowerShell(
  pwsh: string,
  peer: SshdPeer,
  hosts: string[],
  knownHosts: string,
): Promise<PowerShellRun | { error: string }> {
  const q = (s: string): string => `'${s.replace(/'/g, "''")}'`
  const common =
    `-Port ${peer.port} -UserName ${q(peer.username)} -KeyFilePath ${q(peer.privateKeyPath)} ` +
    `-Options @{ BatchMode = 'yes'; StrictHostKeyChecking = 'yes'; UserKnownHostsFile = ${q(knownHosts)} } ` +
    `-ScriptBlock { ${SCRIPT} }`
  const script = `
$ErrorActionPreference = 'Stop'
$hosts = @(${hosts.map(q).join(', ')})
function Get-CpuTicks {
  # utime, stime, cutime, cstime: fields 14-17 of /proc/self/stat, after "pid (comm) "
  $f = ([IO.File]::ReadAllText('/proc/self/stat') -replace '^.*\\) ', '') -split ' '
  [long]$f[11] + [long]$f[12] + [long]$f[13] + [long]$f[14]
}
$null = Invoke-Command -HostName $hosts[0] ${common}
$cpu = Get-CpuTicks
$sw = [Diagnostics.Stopwatch]::StartNew()
$result = @(Invoke-Command -HostName $hosts ${common})
$ms = $sw.Elapsed.TotalMilliseconds
$cpu = (Get-CpuTicks) - $cpu
if ($result.Count -ne $hosts.Count) { throw "got $($result.Count) objects from $($hosts.Count) hosts" }
"TIMING|$($ms.ToString([cultureinfo]::InvariantCulture))|$cpu"
`
  try {
    const r = await runPwsh(pwsh, script)
    const m = /^TIMING\|([\d.]+)\|(\d+)\s*$/m.exec(r.stdout)
    return r.code === 0 && m !== null
      ? { ms: Number(m[1]), cpuSeconds: Number(m[2]) / CLOCK_TICKS }
      : { error: r.stderr || r.stdout || `exit ${r.code}` }
  } catch (e) {
    return { error: (e as Error).message }
  }
}

/** The fleet-over-SSH row: starts a private sshd on N loopback addresses and measures both clients. */
export async function benchFleetSsh(pwsh: string | undefined): Promise<void> {
  if (!wants('fleet', 'ssh', `throttle-${THROTTLE}`)) return
  if (pwsh === undefined) {
    say('pwsh not found: fleet over SSH skipped')
    return
  }
  const missing = sshdUnavailable()
  if (missing !== undefined) {
    say(`fleet over SSH skipped: ${missing}`)
    return
  }
  const n = size('PSRP_BENCH_FLEET_SSH', 16, 8)
  const hosts = Array.from({ length: n }, (_, i) => loopback(i))
  // explicit loopback addresses, never 0.0.0.0: the test user's password must not be reachable from the network
  const peer = await startSshd({ pwsh, extraConfig: hosts.slice(1).map((h) => `ListenAddress ${h}`) })
  try {
    const notListening = hosts.filter(
      (h) => !peer.log().includes(`Server listening on ${h} port ${peer.port}`),
    )
    if (notListening.length > 0) {
      say(`fleet over SSH skipped: sshd does not listen on ${notListening.join(', ')}:\n${peer.log()}`)
      return
    }
    const knownHosts = join(peer.dir, 'fleet_known_hosts')
    writeFileSync(knownHosts, hosts.map((h) => `[${h}]:${peer.port} ${peer.hostPublicKey}\n`).join(''))
    say(
      `fleet over SSH: ${n} targets (${hosts[0]}–${hosts[n - 1]}, one private sshd, a pwsh -sshs per session), ` +
        `${SCRIPT}, throttle ${THROTTLE}`,
    )

    await runOurs(peer, hosts.slice(0, 1), knownHosts) // warm-up
    const [ours, ourSessions] = await watchSessions(peer, () => runOurs(peer, hosts, knownHosts))
    const p50 = percentile(ours.durations, 50)
    const p99 = percentile(ours.durations, 99)
    const failed =
      ours.failures.length === 0
        ? ''
        : `, ${ours.failures.length} failed: ${ours.failures.slice(0, 3).join('; ')}`
    say(
      `  psrp runOnHosts: ${ours.totalMs.toFixed(0)} ms, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms per host, ` +
        `client CPU ${ours.cpuSeconds.toFixed(2)} s, ${describe(ourSessions)}${failed}`,
    )

    let theirs: PowerShellRun | { error: string }
    let theirSessions: Sessions | undefined
    if (findSshClient() === undefined) {
      theirs = { error: 'the ssh client is missing (apt-get install openssh-client)' }
    } else {
      ;[theirs, theirSessions] = await watchSessions(peer, () => runPowerShell(pwsh, peer, hosts, knownHosts))
    }
    if ('error' in theirs) say(`  PowerShell Invoke-Command -HostName failed: ${theirs.error}`)
    else
      say(
        `  PowerShell Invoke-Command -HostName: ${theirs.ms.toFixed(0)} ms, ` +
          `client CPU ${theirs.cpuSeconds.toFixed(2)} s (pwsh and its ssh processes)` +
          (theirSessions === undefined ? '' : `, ${describe(theirSessions, 1)}`),
      )

    const perSecond = (ms: number): number => n / (ms / 1000)
    const peerRun = ours.failures.length > 0 || 'error' in theirs ? undefined : theirs
    report({
      name: `fleet SSH throttle ${THROTTLE}`,
      unit: 'hosts/s',
      psrp: perSecond(ours.totalMs),
      peer: peerRun === undefined ? null : perSecond(peerRun.ms),
      peerName: `Invoke-Command -HostName (ssh binary, throttle ${THROTTLE})`,
      better: 'higher',
      params: {
        hosts: n,
        throttle: THROTTLE,
        script: SCRIPT,
        totalMs: Math.round(ours.totalMs),
        peerTotalMs: peerRun === undefined ? null : Math.round(peerRun.ms),
        p50Ms: Math.round(p50),
        p99Ms: Math.round(p99),
        clientCpuS: Number(ours.cpuSeconds.toFixed(2)),
        peerClientCpuS: peerRun === undefined ? null : peerRun.cpuSeconds,
        sessions: ourSessions.sessions,
        peerSessions: theirSessions === undefined ? null : theirSessions.sessions - 1,
        failures: ours.failures.length,
      },
    })
  } finally {
    await peer.close()
  }
}
