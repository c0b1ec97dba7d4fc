#!/usr/bin/env bash
# Installs what test/powershell/ runs: PowerShell 7.6 (as a .NET global tool, in ~/.dotnet/tools)
# and Pester 5 (from NuGet, into PowerShell's user module folder ~/.local/share/powershell/Modules,
# which pwsh searches by default). Needs the .NET SDK (10) and NuGet; nothing else.
# Does nothing when both are already there.
set -euo pipefail
PWSH_VERSION=7.6.10 # without a version, `dotnet tool install` takes 7.7.x, which does not start here
PESTER_VERSION=5.7.1 # Pester 6 changed its configuration; the tests are written for 5
tools="$HOME/.dotnet/tools"
modules="${XDG_DATA_HOME:-$HOME/.local/share}/powershell/Modules"
pester_dir="$modules/Pester/$PESTER_VERSION"

# A PowerShell 7 already on PATH will do (the tests look in ~/.dotnet/tools first, then PATH).
pwsh="$tools/pwsh"
if ! [ -x "$pwsh" ]; then
  if command -v pwsh >/dev/null 2>&1 &&
    pwsh -NoProfile -NonInteractive -Command 'exit [int]($PSVersionTable.PSVersion.Major -lt 7)' >/dev/null 2>&1; then
    pwsh=$(command -v pwsh)
  elif ! command -v dotnet >/dev/null 2>&1; then
    echo "install-powershell: the .NET SDK (dotnet) is needed to install PowerShell; see https://dot.net" >&2
    exit 1
  else
    dotnet tool install --global PowerShell --version "$PWSH_VERSION"
  fi
fi

if ! [ -f "$pester_dir/Pester.psd1" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # A throw-away project whose only job is to have NuGet fetch (and verify) the Pester package.
  cat >"$work/pester.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PESTER_VERSION]" /></ItemGroup>
</Project>
XML
  dotnet restore "$work/pester.csproj" --packages "$work/packages" >/dev/null
  src="$work/packages/pester/$PESTER_VERSION/tools"
  if ! [ -f "$src/Pester.psd1" ]; then
    echo "install-powershell: the Pester $PESTER_VERSION package has no tools/Pester.psd1" >&2
    exit 1
  fi
  mkdir -p "$modules/Pester"
  rm -rf "$pester_dir.tmp"
  cp -R "$src" "$pester_dir.tmp"
  mv "$pester_dir.tmp" "$pester_dir"
fi

"$pwsh" -NoProfile -NonInteractive -Command \
  "Import-Module Pester -RequiredVersion $PESTER_VERSION -ErrorAction Stop; exit 0" >/dev/null
