#!/usr/bin/env bash
# Makes a ReadyToRun copy of the PowerShell .NET global tool for the test suite and prints the path of
# its `pwsh`. The global tool (`dotnet tool install --global PowerShell`) ships IL only, so every pwsh
# it starts compiles PowerShell itself with the JIT: opening a runspace pool and running `Get-Item`
# cost 1.4 s of CPU in a fresh pwsh -s, against 0.66 s for the same assemblies compiled ahead of time,
# the form Microsoft's own Linux packages ship. The suite starts about 300 pwsh processes and keeps
# both cores of a CI machine busy, so this saves minutes; the code that runs is the same PowerShell
# release (same IL, same version), only compiled earlier.
#
# Uses crossgen2 from NuGet (Microsoft.NETCore.App.Crossgen2.linux-x64, the version of the installed
# .NET runtime, restored through a throwaway project). An assembly crossgen2 refuses stays as it was.
# The copy goes to $PSRP_PWSH_R2R_DIR (default /opt/psrp-pwsh-r2r/<version>, readable by every user:
# the SSH tests run pwsh as another user) and is reused while its stamp file is there.
#
# Usage: PSRP_PWSH="$(bash scripts/pwsh-ready-to-run.sh)" — exits non-zero (printing why on stderr)
# when the tool or the compiler cannot be found; callers then keep the global tool.
set -euo pipefail

store="$HOME/.dotnet/tools/.store/powershell"
tool_dir="$(ls -d "$store"/*/powershell/*/tools/net*/any/unix 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$tool_dir" ] || [ ! -x "$tool_dir/pwsh" ]; then
  echo "pwsh-ready-to-run: no PowerShell global tool under $store" >&2
  exit 1
fi
version="${tool_dir#"$store"/}" # <version>/powershell/<version>/tools/…
version="${version%%/*}"
out="${PSRP_PWSH_R2R_DIR:-/opt/psrp-pwsh-r2r/$version}"
if [ -f "$out/.ready-to-run" ]; then
  echo "$out/pwsh"
  exit 0
fi

# The shared framework pwsh runs on: the newest Microsoft.NETCore.App of the major version it targets.
major="$(sed -n 's/.*"version": *"\([0-9]*\)\..*/\1/p' "$tool_dir/pwsh.runtimeconfig.json" | head -n 1)"
runtime_line="$(dotnet --list-runtimes | grep "^Microsoft.NETCore.App $major\." | sort -V | tail -n 1)"
if [ -z "$runtime_line" ]; then
  echo "pwsh-ready-to-run: no Microsoft.NETCore.App $major.x runtime" >&2
  exit 1
fi
runtime_version="$(echo "$runtime_line" | awk '{print $2}')"
runtime_dir="$(echo "$runtime_line" | sed 's/.*\[\(.*\)\]/\1/')/$runtime_version"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/restore.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net$major.0</TargetFramework></PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Microsoft.NETCore.App.Crossgen2.linux-x64" Version="[$runtime_version]" />
  </ItemGroup>
</Project>
EOF
dotnet restore "$work/restore.csproj" --packages "$work/packages" >&2
crossgen="$work/packages/microsoft.netcore.app.crossgen2.linux-x64/$runtime_version/tools/crossgen2"
if [ ! -x "$crossgen" ]; then
  echo "pwsh-ready-to-run: crossgen2 $runtime_version was not restored" >&2
  exit 1
fi

mkdir -p "$work/r2r"
cp -a "$tool_dir" "$work/pwsh"
compile() {
  "$crossgen" -r "$runtime_dir/" -r "$tool_dir/" --targetos:linux --targetarch:x64 -O "$1" \
    -o "$work/r2r/$(basename "$1")" > "$work/r2r/$(basename "$1").log" 2>&1 ||
    rm -f "$work/r2r/$(basename "$1")"
}
export -f compile
export crossgen runtime_dir tool_dir work
ls "$tool_dir"/*.dll | xargs -P "$(nproc)" -I{} bash -c 'compile "$1"' _ {}
compiled=0
for f in "$work"/r2r/*.dll; do
  [ -e "$f" ] || continue
  cp "$f" "$work/pwsh/"
  compiled=$((compiled + 1))
done
echo "pwsh-ready-to-run: $compiled of $(ls "$tool_dir"/*.dll | wc -l) assemblies compiled ahead of time" >&2

rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$work/pwsh" "$out"
chmod -R a+rX "$out"
touch "$out/.ready-to-run"
echo "$out/pwsh"
