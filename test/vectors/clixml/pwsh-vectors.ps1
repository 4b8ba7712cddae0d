# Generates pwsh-vectors.json: CLIXML written by PowerShell's own PSSerializer (run with pwsh 7.6.9:
#   pwsh -NoProfile -File test/vectors/clixml/pwsh-vectors.ps1 > test/vectors/clixml/pwsh-vectors.json)
# Each entry is one element exactly as PSSerializer writes it, whitespace between elements removed.
$ErrorActionPreference = 'Stop'
$cases = [ordered]@{
  'S seed example'       = "Hello World`nXML is " + [char]::ConvertFromUtf32(0x1F4A9) + " when dealing with things like _x000A_`n"
  'S tab cr C1 specials' = "a`tb`rc`u{85}`u{9f}`u{a0}<&>`"'" + ']]>'
  'S underscore x X'     = '_x0041_ _X0041_ __x _y x_ _x12G4_'
  'S lone surrogates'    = "" + [char]0xD800 + "z" + [char]0xDC00
  'S empty'              = ''
  'C'                    = [char]0x2603
  'B'                    = $true
  'By'                   = [byte]255
  'SB'                   = [sbyte]-128
  'I16'                  = [int16]-32768
  'U16'                  = [uint16]65535
  'I32'                  = [int32]-2147483648
  'U32'                  = [uint32]4294967295
  'I64'                  = [int64]::MinValue
  'U64'                  = [uint64]::MaxValue
  'Db 1.5'               = [double]1.5
  'Db 1E+17'             = [double]1e17
  'Db 1E16 plain'        = [double]1e16
  'Db 1E-05'             = [double]0.00001
  'Db 0.0001'            = [double]0.0001
  'Db 1E+300'            = [double]1e300
  'Db 5E-324'            = [double]5e-324
  'Db max'               = [double]::MaxValue
  'Db INF'               = [double]::PositiveInfinity
  'Db -INF'              = [double]::NegativeInfinity
  'Db NaN'               = [double]::NaN
  'Db -0'                = [double]-0.0
  'Db 0.1'               = [double]0.1
  'Db integral 3'        = [double]3
  'Sg 0.1'               = [float]0.1
  'Sg 1E+09'             = [float]1e9
  'Sg 100000000'         = [float]1e8
  'Sg 123456790'         = [float]123456789
  'Sg 1.1754944E-38'     = [float]1.17549435E-38
  'Sg 3.4028235E+38'     = [float]::MaxValue
  'D exact'              = [decimal]'79228162514264337593543950335'
  'D scale kept'         = [decimal]'1.10'
  'D tiny'               = [decimal]'-0.0000000000000000000000000001'
  'DT utc'               = [datetime]::new(2008, 4, 11, 17, 42, 32, [DateTimeKind]::Utc).AddTicks(2731993)
  'DT utc whole'         = [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
  'DT utc trailing zero' = [datetime]::new(2020, 1, 1, 0, 0, 0, 100, [DateTimeKind]::Utc)
  'DT unspecified'       = [datetime]::new(637000000000000001)
  'DT max'               = [datetime]::MaxValue
  'DT min'               = [datetime]::MinValue
  'TS zero'              = [timespan]::Zero
  'TS one tick'          = [timespan]::new(1)
  'TS minus one tick'    = [timespan]::new(-1)
  'TS seed'              = [timespan]::new(90269026)
  'TS day and half'      = [timespan]::FromDays(1.5)
  'TS 400 days'          = [timespan]::FromDays(400)
  'TS max'               = [timespan]::MaxValue
  'TS min'               = [timespan]::MinValue
  'TS h m'               = [timespan]::new(0, 1, 2, 0)
  'G'                    = [guid]'0ED08A2C-3FB3-4C74-9A5E-0B8F2F8A1D11'
  'Version 2'            = [version]'2.3'
  'Version 4'            = [version]'10.0.17763.1'
  'URI'                  = [uri]'http://host/a b?_x0041_'
  'BA'                   = [byte[]](0, 1, 2, 250, 255)
  'BA empty'             = [byte[]]@()
  'SBK'                  = [scriptblock]::Create("Get-Item `$x`t# _x")
  'XD'                   = [xml]'<a b="1">t</a>'
  'Nil'                  = $null
  'LST Object[]'         = @(1, 'two', $null)
  'LST empty'            = @()
  'LST List[int]'        = [System.Collections.Generic.List[int]]@(1, 2)
  'LST ArrayList'        = [System.Collections.ArrayList]@('a')
  'QUE'                  = [System.Collections.Queue]@(1, 2)
  'STK'                  = [System.Collections.Stack]@(1, 2)
  'IE HashSet'           = [System.Collections.Generic.HashSet[string]]@('only')
  'DCT Hashtable'        = @{ key = 'value' }
  'DCT empty'            = @{}
  'DCT ordered'          = [ordered]@{ a = 1; b = 2 }
  'enum ConsoleColor'    = [System.ConsoleColor]::DarkYellow
  'enum ErrorCategory'   = [System.Management.Automation.ErrorCategory]::ObjectNotFound
  'enum flags'           = [System.IO.FileAttributes]'ReadOnly, Hidden'
  'enum flags zero'      = [System.Management.Automation.RemoteStreamOptions]::None
  'enum ActionPreference' = [System.Management.Automation.ActionPreference]::Continue
  'PSCustomObject'       = [pscustomobject]@{ Name = 'n'; Nested = [pscustomobject]@{ x = 1 }; List = @(1, 2) }
  'PSCustomObject typename' = [pscustomobject]@{ PSTypeName = 'My.Type'; a = 1 }
  'ProgressRecord'       = [System.Management.Automation.ProgressRecord]::new(7, 'Activity', 'Status')
  'InformationRecord'    = [System.Management.Automation.InformationRecord]::new('msg', 'src')
  'WarningRecord'        = [System.Management.Automation.WarningRecord]::new('careful')
  'Coordinates'          = [System.Management.Automation.Host.Coordinates]::new(1, 2)
  'Size'                 = [System.Management.Automation.Host.Size]::new(80, 25)
  'KeyInfo'              = [System.Management.Automation.Host.KeyInfo]::new(65, [char]'a', 'ShiftPressed', $true)
  'BufferCell'           = [System.Management.Automation.Host.BufferCell]::new([char]'x', 'Red', 'Blue', 'Complete')
  'PSInt with note'      = ([int]::Parse('424242') | Add-Member -NotePropertyName Note -NotePropertyValue 'n' -PassThru)
  'string with note'     = ('noted string' | Add-Member -NotePropertyName Note -NotePropertyValue 2 -PassThru)
}
$dict = [System.Collections.Generic.Dictionary[string, int]]::new(); $dict['n'] = 1
$cases['DCT Dictionary'] = $dict
$shared = [pscustomobject]@{ id = 1 }
$cases['Ref repeated object'] = @($shared, $shared)
$cycle = [System.Collections.ArrayList]::new(); $null = $cycle.Add(1); $null = $cycle.Add($cycle)
$cases['Ref cycle'] = $cycle
$cases['TNRef reuse'] = @([pscustomobject]@{ a = 1 }, [pscustomobject]@{ a = 2 })
try { Get-Item -LiteralPath '/nonexistent/psrp-vector' } catch { $cases['ErrorRecord'] = $_ }

$out = foreach ($k in $cases.Keys) {
  $xml = [System.Management.Automation.PSSerializer]::Serialize($cases[$k], 3)
  $xml = $xml -replace '^(?s)<Objs[^>]*>\s*', '' -replace '\s*</Objs>\s*$', ''
  $xml = $xml -replace '>\s+<', '><'
  [ordered]@{ name = $k; clixml = $xml }
}
[ordered]@{ source = 'PowerShell ' + $PSVersionTable.PSVersion.ToString() + ' PSSerializer.Serialize(value, 3), generated by pwsh-vectors.ps1'; vectors = @($out) } | ConvertTo-Json -Depth 4
