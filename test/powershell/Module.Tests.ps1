# The module itself: its manifest, how it finds the CLI, its result objects and how they print,
# Get-PartnerEnvironment and Start-PartnerTokenEmulator.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Manifest = Join-Path $script:RepoRoot 'powershell' 'PartnerToken' 'PartnerToken.psd1'
    # Runs $Script in a fresh pwsh with the module from this checkout and $Environment changed.
    function Invoke-FreshPwsh([string]$Script, [hashtable]$Environment = @{}, [string]$Manifest = $script:Manifest) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($env:PT_TEST_PWSH)
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$Manifest'; $Script") { $psi.ArgumentList.Add($a) }
        foreach ($k in $Environment.Keys) {
            if ($null -eq $Environment[$k]) { [void]$psi.Environment.Remove($k) } else { $psi.Environment[$k] = $Environment[$k] }
        }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEnd()
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = $out.Result; Stderr = $err }
    }
}

Describe 'The manifest' {
    It 'is valid, in step with package.json, for PowerShell 7.2+ Core, and lists every cmdlet' {
        $m = Test-ModuleManifest -Path $script:Manifest
        $package = Get-Content -Raw (Join-Path $script:RepoRoot 'package.json') | ConvertFrom-Json
        $m.Version.ToString() | Should -Be ($package.version -replace '-.*$', '')
        $m.PowerShellVersion.ToString() | Should -Be '7.2'
        $m.CompatiblePSEditions | Should -Be @('Core')
        $m.PrivateData.PSData.Tags | Should -Contain 'PartnerCenter'
        $m.PrivateData.PSData.ProjectUri | Should -Not -BeNullOrEmpty
        $m.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
        $expected = 'Connect-PartnerCenter', 'Disconnect-PartnerCenter', 'Get-PartnerAccessToken', 'Get-PartnerCustomer',
        'Get-PartnerCustomerAccessToken', 'Get-PartnerEnvironment', 'Get-PartnerSession', 'New-PartnerAccessToken',
        'New-SecMgmtAccessToken', 'Start-PartnerTokenEmulator'
        @($m.ExportedFunctions.Keys | Sort-Object) | Should -Be $expected
        @((Get-Command -Module PartnerToken).Name | Sort-Object) | Should -Be $expected
    }
}

Describe 'npm run build:psmodule' {
    It 'writes a module folder that Publish-PSResource takes: a valid manifest, the version of package.json, the licence' {
        $out = Join-Path $env:PT_TEST_WORK 'psmodule'
        & $env:PARTNER_TOKEN_NODE (Join-Path $script:RepoRoot 'scripts' 'build-psmodule.ts') $out | Out-Null
        $LASTEXITCODE | Should -Be 0
        $m = Test-ModuleManifest -Path (Join-Path $out 'PartnerToken' 'PartnerToken.psd1')
        $package = Get-Content -Raw (Join-Path $script:RepoRoot 'package.json') | ConvertFrom-Json
        $m.Version.ToString() | Should -Be ($package.version -replace '-.*$', '')
        Join-Path $out 'PartnerToken' 'LICENSE' | Should -Exist
        Join-Path $out 'PartnerToken' 'PartnerToken.format.ps1xml' | Should -Exist
    }
}

Describe 'Finding the CLI' {
    It 'PARTNER_TOKEN_CLI may name an executable launcher' {
        $launcher = Join-Path $env:PT_TEST_WORK 'pt-launcher.sh'
        Set-Content -LiteralPath $launcher -Value "#!/bin/sh`nexec '$env:PARTNER_TOKEN_NODE' '$env:PARTNER_TOKEN_CLI' `"`$@`"`n"
        chmod 700 $launcher
        $r = Invoke-FreshPwsh '(Get-PartnerEnvironment -Name AzureChinaCloud).LegacyName' @{ PARTNER_TOKEN_CLI = $launcher }
        $r.Stdout.Trim() | Should -Be 'ChinaCloud'
    }
    It 'partner-token on PATH, when nothing else is set' {
        $bin = Join-Path $env:PT_TEST_WORK 'path-bin'
        New-Item -ItemType Directory -Force -Path $bin | Out-Null
        $exe = Join-Path $bin 'partner-token'
        Set-Content -LiteralPath $exe -Value "#!/bin/sh`nexec '$env:PARTNER_TOKEN_NODE' '$env:PARTNER_TOKEN_CLI' `"`$@`"`n"
        chmod 700 $exe
        $r = Invoke-FreshPwsh '(Get-PartnerEnvironment -Name AzurePPE).LegacyName' @{ PARTNER_TOKEN_CLI = $null; PATH = "$bin$([System.IO.Path]::PathSeparator)/usr/bin:/bin" }
        $r.Stdout.Trim() | Should -Be 'PPE'
    }
    It 'none found: a clear error naming all three places' {
        # A copy of the module with no package around it (no bin/ next to it).
        $copy = Join-Path $env:PT_TEST_WORK 'isolated'
        New-Item -ItemType Directory -Force -Path $copy | Out-Null
        Copy-Item -Recurse -Force -Path (Split-Path $script:Manifest) -Destination $copy
        $r = Invoke-FreshPwsh 'try { Get-PartnerEnvironment } catch { $_.FullyQualifiedErrorId; $_.Exception.Message }' @{ PARTNER_TOKEN_CLI = $null; PATH = '/usr/bin:/bin' } (Join-Path $copy 'PartnerToken' 'PartnerToken.psd1')
        $r.Stdout | Should -BeLike 'ERR_CLI_NOT_FOUND,Get-PartnerEnvironment*'
        $r.Stdout | Should -BeLike '*PARTNER_TOKEN_CLI*'
        $r.Stdout | Should -BeLike '*bin/partner-token.cjs*'
        $r.Stdout | Should -BeLike '*partner-token on PATH*'
    }
    It 'a PARTNER_TOKEN_CLI that is not a file is named' {
        $err = & { $saved = $env:PARTNER_TOKEN_CLI; try { $env:PARTNER_TOKEN_CLI = '/nonexistent/partner-token'; Get-PartnerEnvironment } catch { $_ } finally { $env:PARTNER_TOKEN_CLI = $saved } }
        $err.FullyQualifiedErrorId | Should -Be 'ERR_CLI_NOT_FOUND,Get-PartnerEnvironment'
        $err.Exception.Message | Should -BeLike '*/nonexistent/partner-token*'
    }
}

Describe 'The AuthResult object' {
    BeforeAll {
        $script:Token = New-PartnerAccessToken -ApplicationId $script:PublicApp -Scopes $script:Graph -UseDeviceAuthentication 6>$null
    }
    It 'has the original''s properties with their .NET types' {
        $t = $script:Token
        $t.PSObject.TypeNames[0] | Should -Be 'PartnerToken.AuthResult'
        foreach ($name in 'AccessToken', 'RefreshToken', 'ExpiresOn', 'ExtendedExpiresOn', 'TenantId', 'UniqueId', 'Account', 'IdToken', 'Scopes', 'CorrelationId', 'TokenType', 'IsExtendedLifeTimeToken') {
            $t.PSObject.Properties.Name | Should -Contain $name
        }
        $t.ExpiresOn -is [DateTimeOffset] | Should -BeTrue
        $t.ExpiresOn.Offset | Should -Be ([TimeSpan]::Zero)
        $t.ExtendedExpiresOn -is [DateTimeOffset] | Should -BeTrue
        , $t.Scopes | Should -BeOfType [string[]]
        $t.CorrelationId -is [Guid] | Should -BeTrue
        $t.IsExtendedLifeTimeToken -is [bool] | Should -BeTrue
        $t.TokenType | Should -Be 'Bearer'
        $t.Account.Username | Should -Be $script:Ready.user.username
        $t.Account.HomeAccountId.Identifier | Should -Be "$($t.Account.HomeAccountId.ObjectId).$($t.Account.HomeAccountId.TenantId)"
        $t.Account.HomeAccountId.TenantId | Should -Be $t.TenantId
        $t.CreateAuthorizationHeader() | Should -Be "Bearer $($t.AccessToken)"
    }
    It 'prints as a short table that hides the tokens, and Format-List hides them too' {
        $t = $script:Token
        foreach ($text in @(($t | Out-String -Width 400), ($t | Format-Table | Out-String -Width 400), ($t | Format-List | Out-String -Width 400))) {
            $text | Should -Not -BeLike "*$($t.AccessToken)*"
            $text | Should -Not -BeLike "*$($t.RefreshToken)*"
            $text | Should -Not -BeLike "*$($t.IdToken)*"
            $text | Should -BeLike "*$($t.AccessToken.Substring(0, 12))…*"
        }
        ($t | Format-Table | Out-String -Width 400) | Should -BeLike '*ExpiresOn*'
    }
}

Describe 'Get-PartnerEnvironment' {
    It 'lists the five clouds and the emulator' {
        $all = @(Get-PartnerEnvironment)
        $all[0].PSObject.TypeNames[0] | Should -Be 'PartnerToken.Environment'
        $all.Name | Should -Contain 'AzureCloud'
        $all.Name | Should -Contain 'AzureUSGovernment'
        ($all | Where-Object Name -EQ 'AzureChinaCloud').AuthorityHost | Should -Be 'https://login.chinacloudapi.cn'
    }
    It 'takes a legacy name' {
        (Get-PartnerEnvironment -Name GermanCloud).Name | Should -Be 'AzureGermanCloud'
    }
}

Describe 'Start-PartnerTokenEmulator' {
    It 'starts an emulator, points the cmdlets at it with -SetEnvironment, and Stop() ends it and puts the environment back' {
        $savedHost = $env:AZURE_AUTHORITY_HOST
        $emu = Start-PartnerTokenEmulator -DataDirectory (Join-Path $env:PT_TEST_WORK 'own-emulator') -SetEnvironment
        try {
            $emu.PSObject.TypeNames[0] | Should -Be 'PartnerToken.Emulator'
            $emu.Url | Should -Match '^https://127\.0\.0\.1:\d+$'
            $emu.Url | Should -Not -Be $script:Ready.url
            $env:AZURE_AUTHORITY_HOST | Should -Be $emu.AuthorityHost
            $cred = New-TestCredential -UserName $emu.Apps.confidential.clientId -Secret $emu.Apps.confidential.clientSecret
            $t = New-PartnerAccessToken -ApplicationId $emu.Apps.confidential.clientId -Credential $cred -Scopes $script:Graph -ServicePrincipal -Tenant $emu.PartnerTenant.id
            $t.AccessToken | Should -Match '^ey'
        }
        finally { $emu.Stop() }
        $emu.Process.HasExited | Should -BeTrue
        $env:AZURE_AUTHORITY_HOST | Should -Be $savedHost
    }
}
