/**
 * The PowerShell scripts the file transfers of {@link Client} run on the server. They are written for
 * Windows PowerShell 5.1 as well as PowerShell 7 (no `clean` blocks, no .NET Core–only overloads), use
 * only .NET types (`FileStream`, `SHA256`), and report problems as terminating errors whose messages
 * name the path, which the client surfaces as {@link PipelineFailedError}, or as
 * `FileTransferError` for the refusals tagged with {@link TRANSFER_ERROR_ID}.
 *
 * Wire conventions between client and scripts:
 * - file bytes travel as `byte[]` objects (`<BA>` in CLIXML), one per chunk;
 * - SHA-256 digests travel as lower-case hex strings;
 * - relative paths in directory listings use `/` whatever the server's separator.
 *
 * @module
 */

/**
 * The FullyQualifiedErrorId prefix of the errors the scripts raise for refusals the client reports as
 * `FileTransferError`: `PsrpFileTransfer.<reason>` (see `FileTransferFailure`), with the path as the
 * ErrorRecord's TargetObject.
 */
export const TRANSFER_ERROR_ID = 'PsrpFileTransfer'

/**
 * Resolves a path given by the client: optionally expands it as a PowerShell expandable string
 * (`$env:TEMP\x`) and then its `%VAR%` environment variables, then makes it absolute against the runspace's current location; raises the tagged
 * transfer errors (`Stop-PsrpTransfer <reason> <path> <message>`).
 */
const RESOLVE = `
function Resolve-PsrpPath([string]$P, [bool]$Expand) {
  if ($Expand) { $P = [Environment]::ExpandEnvironmentVariables($ExecutionContext.InvokeCommand.ExpandString($P)) }
  $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($P)
}
function ConvertTo-PsrpHex([byte[]]$B) { [BitConverter]::ToString($B).Replace('-', '').ToLowerInvariant() }
function Stop-PsrpTransfer([string]$Reason, [string]$Target, [string]$Message) {
  $ex = if ($Reason -eq 'not-found') { New-Object IO.FileNotFoundException($Message, $Target) } else { New-Object IO.IOException($Message) }
  throw (New-Object Management.Automation.ErrorRecord($ex, "${TRANSFER_ERROR_ID}.$Reason", 'InvalidOperation', $Target))
}
`

/**
 * The destination file of a copy: `Path`, or `<Path>/<Name>` when `Path` is an existing directory (as
 * `cp` and `Copy-Item` do). Shared by the copy scripts and the cleanup after an interrupted copy, so
 * all find the same temporary file. `Assert-PsrpDestination` makes the refusals every copy makes
 * before it creates anything: a directory in the way, an existing file without `Overwrite` (the
 * tagged `exists` refusal), a missing parent directory.
 */
const DESTINATION = `
function Resolve-PsrpDestination([string]$P, [string]$Name) {
  if ($Name -and [IO.Directory]::Exists($P)) { [IO.Path]::Combine($P, $Name) } else { $P }
}
function Assert-PsrpDestination([string]$P, [bool]$Overwrite) {
  if ([IO.Directory]::Exists($P)) { throw "Cannot copy to '$P': it is a directory." }
  if (-not $Overwrite -and [IO.File]::Exists($P)) {
    Stop-PsrpTransfer 'exists' $P "Cannot copy to '$P': the file exists (set overwrite to replace it)."
  }
  $dir = [IO.Path]::GetDirectoryName($P)
  if (-not [IO.Directory]::Exists($dir)) { throw "Cannot copy to '$P': the directory '$dir' does not exist." }
}
`

/**
 * The last step of every copy, whole-file or split: when the server's SHA-256 (`Actual`) matches the
 * client's (`Expected`), moves the temporary file to the destination (`File.Replace` over an existing
 * file, refused without `Overwrite`; otherwise `Move`) and outputs the destination path; a mismatch is
 * the tagged `checksum` refusal naming the byte count. The caller removes the temporary file on any
 * failure.
 */
const COMPLETE = `
function Complete-PsrpCopy([string]$Path, [string]$Temp, [string]$Expected, [string]$Actual, [long]$Count, [bool]$Overwrite) {
  if ($Actual -ne $Expected) {
    Stop-PsrpTransfer 'checksum' $Path "Cannot copy to '$Path': SHA-256 mismatch after $Count bytes (sent $Expected, received $Actual)."
  }
  if ([IO.File]::Exists($Path)) {
    if (-not $Overwrite) { Stop-PsrpTransfer 'exists' $Path "Cannot copy to '$Path': the file exists (set overwrite to replace it)." }
    [IO.File]::Replace($Temp, $Path, [NullString]::Value)
  } else {
    [IO.File]::Move($Temp, $Path)
  }
  $Path
}
`

/**
 * Receives one file as pipeline input and writes it to `<dir>/<TempName>` (created exclusively, shared
 * for delete so a cleanup pipeline can remove it after a stop), hashing as it writes. The last input
 * record is the hex SHA-256 the client computed while reading; on a match the temporary file replaces
 * the destination (`File.Replace`, atomic on Windows and POSIX) or is renamed to it. Any failure
 * removes the temporary file. Outputs the resolved destination path. When `Path` is an existing
 * directory the file goes inside it under `Name` (the local file's name).
 *
 * A file of at most one chunk comes instead as the `Data` parameter with its digest as `Sha256`, and
 * no input: that saves the input round trips, which dominate for trees of small files.
 *
 * Parameters: `Path`, `Name`, `TempName`, `Overwrite`, `Expand`, `Data`, `Sha256`.
 */
export const COPY_FILE_SCRIPT = `param([string]$Path, [string]$Name, [string]$TempName, [bool]$Overwrite, [bool]$Expand, [byte[]]$Data, [string]$Sha256)
begin {
  $ErrorActionPreference = 'Stop'
  ${RESOLVE}
  ${DESTINATION}
  ${COMPLETE}
  $Path = Resolve-PsrpDestination (Resolve-PsrpPath $Path $Expand) $Name
  Assert-PsrpDestination $Path $Overwrite
  $tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($Path), $TempName)
  $share = [IO.FileShare]::Read -bor [IO.FileShare]::Delete
  $fs = New-Object IO.FileStream($tmp, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, $share, 65536)
  $sha = [Security.Cryptography.SHA256]::Create()
  $expected = $null
  $count = [long]0
}
process {
  try {
    if ($null -eq $_) { return }
    if ($_ -is [string]) { $expected = $_; return }
    $fs.Write($_, 0, $_.Length)
    $null = $sha.TransformBlock($_, 0, $_.Length, $null, 0)
    $count += $_.Length
  } catch {
    $fs.Dispose()
    [IO.File]::Delete($tmp)
    throw
  }
}
end {
  try {
    if ($null -ne $Data) {
      $fs.Write($Data, 0, $Data.Length)
      $null = $sha.TransformBlock($Data, 0, $Data.Length, $null, 0)
      $count += $Data.Length
    }
    if ($Sha256) { $expected = $Sha256 }
    $fs.Dispose()
    $null = $sha.TransformFinalBlock((New-Object byte[] 0), 0, 0)
    $actual = ConvertTo-PsrpHex $sha.Hash
    if ($null -eq $expected) { throw "Cannot copy to '$Path': the transfer ended before the checksum arrived." }
    Complete-PsrpCopy $Path $tmp $expected $actual $count $Overwrite
  } catch {
    [IO.File]::Delete($tmp)
    throw
  }
}
`

/**
 * Removes the temporary file of an interrupted copy. Outputs `removed<TAB><path>` when it deleted it,
 * `absent<TAB><path>` when there was none (the copy had not created it yet, or had cleaned up); a
 * failure to delete is a terminating error naming the path. Parameters: `Path`, `Name`, `TempName`,
 * `Expand` (as given to the copy script).
 */
export const REMOVE_TEMP_SCRIPT = `param([string]$Path, [string]$Name, [string]$TempName, [bool]$Expand)
$ErrorActionPreference = 'Stop'
${RESOLVE}
${DESTINATION}
$Path = Resolve-PsrpDestination (Resolve-PsrpPath $Path $Expand) $Name
$tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($Path), $TempName)
if ([IO.File]::Exists($tmp)) { [IO.File]::Delete($tmp); "removed\`t$tmp" } else { "absent\`t$tmp" }
`

/**
 * Prepares a directory copy: creates the destination root and every relative directory, and (without
 * `Overwrite`) refuses when any of the relative files exists. Outputs the resolved root and the
 * server's directory separator as two strings.
 *
 * Parameters: `Path`, `Directories` (relative, `/`-separated), `Files` (same), `Overwrite`, `Expand`.
 */
export const PREPARE_DIRECTORY_SCRIPT = `param([string]$Path, [string[]]$Directories, [string[]]$Files, [bool]$Overwrite, [bool]$Expand)
$ErrorActionPreference = 'Stop'
${RESOLVE}
$Path = Resolve-PsrpPath $Path $Expand
$sep = [IO.Path]::DirectorySeparatorChar
if ([IO.File]::Exists($Path)) { throw "Cannot copy a directory to '$Path': it is a file." }
$null = [IO.Directory]::CreateDirectory($Path)
foreach ($d in $Directories) { $null = [IO.Directory]::CreateDirectory([IO.Path]::Combine($Path, $d.Replace('/', $sep))) }
if (-not $Overwrite) {
  $existing = @(foreach ($f in $Files) { $full = [IO.Path]::Combine($Path, $f.Replace('/', $sep)); if ([IO.File]::Exists($full)) { $full } })
  if ($existing.Count -gt 0) {
    $shown = ($existing | Select-Object -First 5) -join "', '"
    Stop-PsrpTransfer 'exists' $Path "Cannot copy to '$Path': $($existing.Count) file(s) exist, e.g. '$shown' (set overwrite to replace them)."
  }
}
$Path
[string]$sep
`

/**
 * Describes a remote path for a fetch. Outputs tab-separated strings: first `R<TAB>file|dir<TAB>
 * <length><TAB><full path>`, then for a directory one `D<TAB><relative>` per subdirectory and one
 * `F<TAB><length><TAB><relative>` per file (recursively, hidden files included, reparse points not
 * followed). A missing path is a terminating error naming it.
 *
 * Parameters: `Path`, `Expand`.
 */
export const STAT_SCRIPT = `param([string]$Path, [bool]$Expand)
$ErrorActionPreference = 'Stop'
${RESOLVE}
$Path = Resolve-PsrpPath $Path $Expand
if ([IO.File]::Exists($Path)) {
  "R\`tfile\`t$((New-Object IO.FileInfo($Path)).Length)\`t$Path"
  return
}
if (-not [IO.Directory]::Exists($Path)) {
  Stop-PsrpTransfer 'not-found' $Path "Cannot fetch '$Path': no such file or directory on the remote host."
}
"R\`tdir\`t0\`t$Path"
$root = (New-Object IO.DirectoryInfo($Path)).FullName.TrimEnd([IO.Path]::DirectorySeparatorChar, [IO.Path]::AltDirectorySeparatorChar)
$stack = New-Object System.Collections.Stack
$stack.Push((New-Object IO.DirectoryInfo($root)))
while ($stack.Count -gt 0) {
  $dir = $stack.Pop()
  foreach ($item in $dir.GetFileSystemInfos()) {
    $rel = $item.FullName.Substring($root.Length + 1).Replace([IO.Path]::DirectorySeparatorChar, '/')
    if ($item -is [IO.DirectoryInfo]) {
      "D\`t$rel"
      if (-not ($item.Attributes -band [IO.FileAttributes]::ReparsePoint)) { $stack.Push($item) }
    } else {
      "F\`t$($item.Length)\`t$rel"
    }
  }
}
`

/**
 * `Read-PsrpBytes $Stream $Count`: the next `Count` bytes of a stream as one `byte[]`, shorter at the
 * end of the stream (empty there). Shared by the whole-file and the batch fetch.
 */
const READ_BYTES = `
function Read-PsrpBytes([IO.Stream]$Stream, [int]$Count) {
  $buf = New-Object byte[] $Count
  $got = 0
  while ($got -lt $Count) {
    $r = $Stream.Read($buf, $got, $Count - $got)
    if ($r -le 0) { break }
    $got += $r
  }
  if ($got -lt $Count) {
    $last = New-Object byte[] $got
    [Array]::Copy($buf, $last, $got)
    $buf = $last
  }
  ,$buf
}
`

/**
 * Streams one file to the client: outputs `byte[]` chunks of `ChunkSize` bytes (the last may be
 * shorter), then the string `sha256:<hex>` of what it sent. The file is opened shared for read and
 * write so files other programs hold open can be fetched. A missing file is a terminating error naming
 * it.
 *
 * Parameters: `Path`, `ChunkSize`, `Expand`.
 */
export const FETCH_FILE_SCRIPT = `param([string]$Path, [int]$ChunkSize, [bool]$Expand)
$ErrorActionPreference = 'Stop'
${RESOLVE}
${READ_BYTES}
$Path = Resolve-PsrpPath $Path $Expand
if ([IO.Directory]::Exists($Path)) { throw "Cannot fetch '$Path' as a file: it is a directory." }
if (-not [IO.File]::Exists($Path)) {
  Stop-PsrpTransfer 'not-found' $Path "Cannot fetch '$Path': no such file on the remote host."
}
$share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
$fs = New-Object IO.FileStream($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share, 65536)
try {
  $sha = [Security.Cryptography.SHA256]::Create()
  while ($true) {
    $buf = Read-PsrpBytes $fs $ChunkSize
    if ($buf.Length -eq 0) { break }
    $null = $sha.TransformBlock($buf, 0, $buf.Length, $null, 0)
    Write-Output -InputObject $buf -NoEnumerate
    if ($buf.Length -lt $ChunkSize) { break }
  }
  $null = $sha.TransformFinalBlock((New-Object byte[] 0), 0, 0)
  'sha256:' + (ConvertTo-PsrpHex $sha.Hash)
} finally {
  $fs.Dispose()
}
`

/**
 * The first step of a copy split across several pipelines ({@link COPY_RANGE_SCRIPT}): resolves the
 * destination as {@link COPY_FILE_SCRIPT} does, refuses what it refuses, and creates the empty
 * temporary file `<dir>/<TempName>` exclusively. Outputs the resolved destination and the temporary
 * file's full path. Nothing is created when it fails.
 *
 * Parameters: `Path`, `Name`, `TempName`, `Overwrite`, `Expand`.
 */
export const COPY_BEGIN_SCRIPT = `param([string]$Path, [string]$Name, [string]$TempName, [bool]$Overwrite, [bool]$Expand)
$ErrorActionPreference = 'Stop'
${RESOLVE}
${DESTINATION}
$Path = Resolve-PsrpDestination (Resolve-PsrpPath $Path $Expand) $Name
Assert-PsrpDestination $Path $Overwrite
$tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($Path), $TempName)
$share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
(New-Object IO.FileStream($tmp, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, $share, 4096)).Dispose()
$Path
$tmp
`

/**
 * Writes one share of a split copy into the temporary file `Temp` made by {@link COPY_BEGIN_SCRIPT}
 * (opened shared, so several of these write at once, each at its own offsets). Input: a file offset
 * (`Int64`) followed by the `byte[]` to write there, repeated. Writes only; the hash is checked once,
 * over the whole file, by {@link COPY_COMMIT_SCRIPT}. A failure leaves the temporary file for the
 * client to remove ({@link REMOVE_TEMP_SCRIPT}).
 *
 * Parameters: `Temp`.
 */
export const COPY_RANGE_SCRIPT = `param([string]$Temp)
begin {
  $ErrorActionPreference = 'Stop'
  $share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
  $fs = New-Object IO.FileStream($Temp, [IO.FileMode]::Open, [IO.FileAccess]::Write, $share, 4096)
}
process {
  try {
    if ($_ -is [byte[]]) { $fs.Write($_, 0, $_.Length) } else { $fs.Position = [long]$_ }
  } catch {
    $fs.Dispose()
    throw
  }
}
end { $fs.Dispose() }
`

/**
 * The last step of a split copy: cuts the temporary file to `Length` bytes, hashes all of it and, when
 * the SHA-256 matches the client's `Sha256`, moves it to the destination (`File.Replace` or `Move`,
 * refusing an existing file without `Overwrite`); any failure removes the temporary file. Outputs the
 * destination path.
 *
 * Parameters: `Path` (the resolved destination), `Temp`, `Length`, `Sha256`, `Overwrite`.
 */
export const COPY_COMMIT_SCRIPT = `param([string]$Path, [string]$Temp, [long]$Length, [string]$Sha256, [bool]$Overwrite)
$ErrorActionPreference = 'Stop'
${RESOLVE}
${COMPLETE}
try {
  $fs = New-Object IO.FileStream($Temp, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite, [IO.FileShare]::Delete, 1048576)
  try {
    $fs.SetLength($Length)
    $sha = [Security.Cryptography.SHA256]::Create()
    $actual = ConvertTo-PsrpHex $sha.ComputeHash($fs)
  } finally {
    $fs.Dispose()
  }
  Complete-PsrpCopy $Path $Temp $Sha256 $actual $Length $Overwrite
} catch {
  [IO.File]::Delete($Temp)
  throw
}
`

/**
 * Streams one share of a file fetched by several pipelines: the chunks numbered `First`,
 * `First + Stride`, `First + 2 * Stride` … of `ChunkSize` bytes each (the last chunk of the file may be
 * shorter), of a file of `Length` bytes, as `byte[]` outputs in that order. No hash: the whole file's
 * is {@link HASH_FILE_SCRIPT}'s. A file shorter than `Length` is an error naming it.
 *
 * Parameters: `Path` (resolved), `ChunkSize`, `First`, `Stride`, `Length`.
 */
export const FETCH_RANGE_SCRIPT = `param([string]$Path, [int]$ChunkSize, [long]$First, [long]$Stride, [long]$Length)
$ErrorActionPreference = 'Stop'
$share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
$fs = New-Object IO.FileStream($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share, 4096)
try {
  for ($index = $First; $index * $ChunkSize -lt $Length; $index += $Stride) {
    $offset = $index * $ChunkSize
    $n = [int][Math]::Min([long]$ChunkSize, $Length - $offset)
    $buf = New-Object byte[] $n
    $fs.Position = $offset
    $got = 0
    while ($got -lt $n) {
      $r = $fs.Read($buf, $got, $n - $got)
      if ($r -le 0) { throw "Cannot fetch '$Path': the file shrank below $Length bytes while it was read." }
      $got += $r
    }
    Write-Output -InputObject $buf -NoEnumerate
  }
} finally {
  $fs.Dispose()
}
`

/**
 * Outputs `sha256:<hex>` of a whole file, read shared (a split fetch compares it with the client's
 * hash of what it received). Parameters: `Path` (resolved).
 */
export const HASH_FILE_SCRIPT = `param([string]$Path)
$ErrorActionPreference = 'Stop'
${RESOLVE}
$share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
$fs = New-Object IO.FileStream($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share, 1048576)
try {
  $sha = [Security.Cryptography.SHA256]::Create()
  'sha256:' + (ConvertTo-PsrpHex $sha.ComputeHash($fs))
} finally {
  $fs.Dispose()
}
`

/**
 * Copies a batch of small files of a directory copy in one pipeline: file `i` is `Data[i]` (a
 * `byte[]`), goes to `Paths[i]` (resolved by {@link PREPARE_DIRECTORY_SCRIPT}) through the temporary
 * file `TempNames[i]` beside it (created exclusively), and is moved into place only when the SHA-256
 * of what was written matches `Sha256[i]` ({@link COMPLETE}); the destination refusals are the
 * whole-file copy's. Outputs each destination path once that file is in place, in order, so the
 * client knows which file a failure concerns. A file's temporary file is removed on any failure,
 * including a stop of the pipeline (`finally`); the files placed before it stay.
 *
 * Parameters: `Paths`, `TempNames`, `Sha256`, `Data`, `Overwrite`.
 */
export const COPY_BATCH_SCRIPT = `param([string[]]$Paths, [string[]]$TempNames, [string[]]$Sha256, [object[]]$Data, [bool]$Overwrite)
$ErrorActionPreference = 'Stop'
${RESOLVE}
${DESTINATION}
${COMPLETE}
$share = [IO.FileShare]::Read -bor [IO.FileShare]::Delete
$sha = [Security.Cryptography.SHA256]::Create()
for ($i = 0; $i -lt $Paths.Count; $i++) {
  $Path = $Paths[$i]
  [byte[]]$bytes = $Data[$i]
  if ($null -eq $bytes) { $bytes = New-Object byte[] 0 }
  Assert-PsrpDestination $Path $Overwrite
  $tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($Path), $TempNames[$i])
  $created = $false
  $placed = $false
  try {
    $fs = New-Object IO.FileStream($tmp, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, $share, 4096)
    $created = $true
    try { $fs.Write($bytes, 0, $bytes.Length) } finally { $fs.Dispose() }
    $actual = ConvertTo-PsrpHex $sha.ComputeHash($bytes)
    Complete-PsrpCopy $Path $tmp $Sha256[$i] $actual $bytes.Length $Overwrite
    $placed = $true
  } finally {
    if ($created -and -not $placed) { [IO.File]::Delete($tmp) }
  }
}
`

/**
 * Removes the temporary files a batch copy ({@link COPY_BATCH_SCRIPT}) may have left when it was
 * interrupted: `<directory of Paths[i]>/<TempNames[i]>`. Outputs `removed<TAB><path>` for each one it
 * deleted; a failure to delete is a terminating error naming the path.
 *
 * Parameters: `Paths`, `TempNames`.
 */
export const REMOVE_TEMPS_SCRIPT = `param([string[]]$Paths, [string[]]$TempNames)
$ErrorActionPreference = 'Stop'
for ($i = 0; $i -lt $Paths.Count; $i++) {
  $tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($Paths[$i]), $TempNames[$i])
  if ([IO.File]::Exists($tmp)) { [IO.File]::Delete($tmp); "removed\`t$tmp" }
}
`

/**
 * Fetches a batch of small files of a directory fetch in one pipeline. For each of `Paths` (resolved,
 * from {@link STAT_SCRIPT}) in order it outputs either the file's bytes as one `byte[]` followed by
 * `sha256:<hex>` of those bytes, or, when the file is now longer than `Sizes[i]` bytes (it grew since
 * it was listed), the string `large`, and the client fetches that file on its own
 * ({@link FETCH_FILE_SCRIPT}); so a batch never sends more than the listed sizes add up to. Files are
 * opened shared, as by the whole-file fetch; a file that is gone is the tagged `not-found` refusal, a
 * directory in its place an error naming it.
 *
 * Parameters: `Paths`, `Sizes` (as listed).
 */
export const FETCH_BATCH_SCRIPT = `param([string[]]$Paths, [long[]]$Sizes)
$ErrorActionPreference = 'Stop'
${RESOLVE}
${READ_BYTES}
$share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
$sha = [Security.Cryptography.SHA256]::Create()
for ($i = 0; $i -lt $Paths.Count; $i++) {
  $Path = $Paths[$i]
  if ([IO.Directory]::Exists($Path)) { throw "Cannot fetch '$Path' as a file: it is a directory." }
  if (-not [IO.File]::Exists($Path)) {
    Stop-PsrpTransfer 'not-found' $Path "Cannot fetch '$Path': no such file on the remote host."
  }
  $fs = New-Object IO.FileStream($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share, 4096)
  try {
    if ($fs.Length -gt $Sizes[$i]) {
      'large'
    } else {
      $buf = Read-PsrpBytes $fs ([int]$fs.Length)
      Write-Output -InputObject $buf -NoEnumerate
      'sha256:' + (ConvertTo-PsrpHex $sha.ComputeHash($buf))
    }
  } finally {
    $fs.Dispose()
  }
}
`
