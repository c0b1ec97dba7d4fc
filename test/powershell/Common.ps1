# Shared by the Pester files: the emulator that pester.test.ts started (its ready line in the file
# $env:PT_TEST_READY), the module from this checkout, and small helpers.
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
if (-not $env:PT_TEST_READY) { throw 'PT_TEST_READY is not set: run these tests through test/powershell/pester.test.ts (npm test).' }
$script:Ready = Get-Content -Raw -LiteralPath $env:PT_TEST_READY | ConvertFrom-Json
$script:RepoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '..' '..'))
Import-Module (Join-Path $script:RepoRoot 'powershell' 'PartnerToken' 'PartnerToken.psd1') -Force
$script:PartnerCenter = 'https://api.partnercenter.microsoft.com/user_impersonation'
$script:Graph = 'https://graph.microsoft.com/.default'
$script:Confidential = $script:Ready.apps.confidential
$script:PublicApp = $script:Ready.apps.public.clientId
$script:PartnerTenant = $script:Ready.partnerTenant.id

function New-TestCredential([string]$UserName = $script:Confidential.clientId, [string]$Secret = $script:Confidential.clientSecret) {
    [pscredential]::new($UserName, (ConvertTo-SecureString -String $Secret -AsPlainText -Force))
}

function Invoke-EmulatorControl([string]$Method, [string]$Path, $Body) {
    $params = @{ Method = $Method; Uri = "$($script:Ready.controlUrl)/$Path"; SkipCertificateCheck = $true }
    if ($null -ne $Body) { $params.Body = ($Body | ConvertTo-Json -Compress); $params.ContentType = 'application/json' }
    Invoke-RestMethod @params
}

# The command lines the test browser saw of the partner-token processes that started it.
function Get-RecordedCommandLine {
    Get-ChildItem -LiteralPath $env:PT_TEST_CMDLINES -Filter '*.txt' | ForEach-Object { Get-Content -Raw -LiteralPath $_.FullName }
}
function Clear-RecordedCommandLine {
    Get-ChildItem -LiteralPath $env:PT_TEST_CMDLINES -Filter '*.txt' | Remove-Item -Force
}

# Everything an ErrorRecord shows: message, details, hint, target, script stack.
function Get-ErrorRecordText($Record) {
    @(
        $Record.ToString(), $Record.Exception.Message, $Record.FullyQualifiedErrorId,
        $(if ($Record.ErrorDetails) { $Record.ErrorDetails.Message; $Record.ErrorDetails.RecommendedAction }),
        [string]$Record.TargetObject, ($Record | Format-List * -Force | Out-String)
    ) -join "`n"
}
