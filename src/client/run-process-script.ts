/**
 * The PowerShell script behind {@link Client.runCmd} on connections without WinRS (a local pwsh,
 * SSH, a named pipe): it starts the program with `System.Diagnostics.Process` (no shell, arguments
 * passed one by one; through `cmd.exe /c` on Windows unless `SkipCmdShell`, as WinRS does), feeds
 * it the given stdin, and reads stdout and stderr as raw bytes, so output arrives byte-exact rather
 * than as PowerShell's decoded lines.
 *
 * Wire conventions, one output object per event:
 * - `[pscustomobject]@{ S = 1 or 2; D = byte[] }`: a chunk of stdout (1) or stderr (2), in the order
 *   read (the two streams are read concurrently, so a program never blocks on a full pipe);
 * - `[pscustomobject]@{ S = 0; D = <int> }` last: the exit code.
 *
 * When the pipeline is stopped (timeout, abort) the `finally` block kills the process tree.
 * A program that cannot be started is a terminating error naming it.
 *
 * @module
 */
export const RUN_PROCESS_SCRIPT = `param([string]$Exe, [string[]]$ArgList, [string]$Cwd, [hashtable]$Environment, [byte[]]$Stdin, [bool]$SkipCmdShell)
$ErrorActionPreference = 'Stop'
$psi = [System.Diagnostics.ProcessStartInfo]::new()
if ($IsWindows -ne $false -and -not $SkipCmdShell) {
  $psi.FileName = 'cmd.exe'
  $psi.ArgumentList.Add('/c')
  $psi.ArgumentList.Add($Exe)
} else {
  $psi.FileName = $Exe
}
foreach ($a in $ArgList) { $psi.ArgumentList.Add($a) }
$psi.UseShellExecute = $false
$psi.RedirectStandardInput = $true
$psi.RedirectStandardOutput = $true
$psi.RedirectStandardError = $true
$psi.WorkingDirectory = if ($Cwd) { $Cwd } else { (Get-Location -PSProvider FileSystem).ProviderPath }
if ($null -ne $Environment) { foreach ($k in $Environment.Keys) { $psi.Environment[[string]$k] = [string]$Environment[$k] } }
try {
  $p = [System.Diagnostics.Process]::Start($psi)
} catch {
  $why = if ($_.Exception.InnerException) { $_.Exception.InnerException.Message } else { $_.Exception.Message }
  throw "cannot start $($Exe): $why"
}
try {
  $feed = $null
  if ($null -ne $Stdin -and $Stdin.Length -gt 0) {
    $feed = [System.IO.MemoryStream]::new($Stdin).CopyToAsync($p.StandardInput.BaseStream)
  } else {
    $p.StandardInput.Close()
  }
  $streams = @($p.StandardOutput.BaseStream, $p.StandardError.BaseStream)
  $buffers = @([byte[]]::new(65536), [byte[]]::new(65536))
  $reads = @($streams[0].ReadAsync($buffers[0], 0, 65536), $streams[1].ReadAsync($buffers[1], 0, 65536))
  while ($null -ne $reads[0] -or $null -ne $reads[1]) {
    if ($null -ne $feed -and $feed.IsCompleted) {
      try { $p.StandardInput.Close() } catch { }
      $feed = $null
    }
    $pending = [System.Threading.Tasks.Task[]]@($reads | Where-Object { $null -ne $_ })
    [void][System.Threading.Tasks.Task]::WaitAny($pending, 200)
    for ($i = 0; $i -lt 2; $i++) {
      $r = $reads[$i]
      if ($null -eq $r -or -not $r.IsCompleted) { continue }
      $n = $r.GetAwaiter().GetResult()
      if ($n -le 0) { $reads[$i] = $null; continue }
      $chunk = [byte[]]::new($n)
      [System.Array]::Copy($buffers[$i], $chunk, $n)
      [pscustomobject]@{ S = $i + 1; D = $chunk }
      $reads[$i] = $streams[$i].ReadAsync($buffers[$i], 0, 65536)
    }
  }
  $p.WaitForExit()
  [pscustomobject]@{ S = 0; D = $p.ExitCode }
} finally {
  if (-not $p.HasExited) { try { $p.Kill($true) } catch { } }
  $p.Dispose()
}`
