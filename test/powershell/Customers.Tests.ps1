# Get-PartnerCustomer | Get-PartnerCustomerAccessToken over the emulator's generated customers
# (2 without delegated access: AADSTS50020; 2 without consent: AADSTS65001).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Connect-PartnerCenter -UseDeviceAuthentication -Profile 'ps-customers' 6>$null | Out-Null
    # The partner-token processes this PowerShell started that are running `customers tokens`.
    function Get-CustomerTokensProcess {
        Get-Process | Where-Object { $_.Parent -and $_.Parent.Id -eq $PID } | Where-Object {
            $cmdline = Get-Content -Raw -LiteralPath "/proc/$($_.Id)/cmdline" -ErrorAction Ignore
            $cmdline -and ($cmdline -replace "`0", ' ') -like '*customers tokens*'
        }
    }
}
AfterAll { Disconnect-PartnerCenter -Profile 'ps-customers' -ErrorAction Ignore }

Describe 'Get-PartnerCustomer' {
    It 'writes one object per customer' {
        $script:Customers = @(Get-PartnerCustomer -Profile 'ps-customers')
        $script:Customers.Count | Should -BeGreaterOrEqual 24
        $script:Customers[0].PSObject.TypeNames[0] | Should -Be 'PartnerToken.Customer'
        $script:Customers.Domain | Should -Contain 'fabrikam.onmicrosoft.com'
        $script:Customers | ForEach-Object { [guid]::Parse($_.TenantId) } | Should -Not -BeNullOrEmpty
    }
}

Describe 'Get-PartnerCustomerAccessToken' {
    BeforeAll {
        # Every answer of the emulator slowed down, so that the job runs long enough to see
        # results arrive while it is still running.
        Invoke-EmulatorControl POST 'faults' @{ path = '/'; count = 200; delayMs = 100 } | Out-Null
    }
    AfterAll { Invoke-EmulatorControl DELETE 'faults' | Out-Null }

    It 'takes customers from the pipeline and writes each result as it completes; failures are objects and non-terminating errors' {
        $seen = [System.Collections.Generic.List[object]]::new()
        $runningAtFirst = $null
        Get-PartnerCustomer -Profile 'ps-customers' |
            Where-Object { $_.Domain } |
            Get-PartnerCustomerAccessToken -Scopes $script:Graph -ThrottleLimit 2 -Profile 'ps-customers' -ErrorVariable failures -ErrorAction SilentlyContinue |
            ForEach-Object {
                if ($seen.Count -eq 0) { $runningAtFirst = @(Get-CustomerTokensProcess) }
                $seen.Add($_)
            }
        # The first object reached the pipeline while partner-token was still working.
        $runningAtFirst.Count | Should -Be 1
        @(Get-CustomerTokensProcess).Count | Should -Be 0
        $seen.Count | Should -Be $script:Customers.Count
        $seen[0].PSObject.TypeNames[0] | Should -Be 'PartnerToken.CustomerAccessToken'
        $ok = @($seen | Where-Object Status -EQ 'ok')
        $bad = @($seen | Where-Object Status -EQ 'error')
        $ok.Count | Should -Be ($script:Customers.Count - 4)
        $ok[0].AccessToken | Should -Match '^ey'
        $ok[0].ExpiresOn | Should -BeOfType [DateTimeOffset]
        $bad.Count | Should -Be 4
        @($bad.ErrorCode | Sort-Object -Unique) | Should -Be @('AADSTS50020', 'AADSTS65001')
        $bad | ForEach-Object { $_.Hint | Should -Not -BeNullOrEmpty }
        $failures.Count | Should -Be 4
        $failures | ForEach-Object {
            $_.FullyQualifiedErrorId | Should -Match '^AADSTS(50020|65001),Get-PartnerCustomerAccessToken$'
            $_.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        }
    }
    It '-CustomerTenantId names the customers without the pipeline' {
        $fabrikam = ($script:Customers | Where-Object Domain -EQ 'fabrikam.onmicrosoft.com').TenantId
        $r = @(Get-PartnerCustomerAccessToken -CustomerTenantId $fabrikam -Scopes $script:Graph -Profile 'ps-customers')
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be 'ok'
        $r[0].TenantId | Should -Be $fabrikam
    }
    It 'reports its progress with Write-Progress, one record per result, then completes' {
        $ids = @($script:Customers | Select-Object -First 3 | ForEach-Object TenantId)
        # A runspace of its own, whose progress stream can be read back.
        $ps = [powershell]::Create()
        try {
            [void]$ps.AddScript({
                    param($Manifest, $Scopes, $Ids)
                    Import-Module $Manifest
                    $ProgressPreference = 'Continue'
                    $Ids | Get-PartnerCustomerAccessToken -Scopes $Scopes -Profile 'ps-customers' -ErrorAction SilentlyContinue
                }).AddArgument((Join-Path $script:RepoRoot 'powershell' 'PartnerToken' 'PartnerToken.psd1')).AddArgument($script:Graph).AddArgument($ids)
            $results = @($ps.Invoke())
            $progress = @($ps.Streams.Progress | Where-Object Activity -EQ 'Getting customer tokens')
        }
        finally { $ps.Dispose() }
        $results.Count | Should -Be 3
        $running = @($progress | Where-Object RecordType -EQ 'Processing')
        $running.Count | Should -Be 3
        $running[-1].PercentComplete | Should -Be 100
        $running[0].PercentComplete | Should -BeLessThan 100
        $running[-1].StatusDescription | Should -BeLike '3 done*'
        @($progress | Where-Object RecordType -EQ 'Completed').Count | Should -Be 1
    }
    It '-ErrorAction Stop stops at the first failure and ends partner-token' {
        $seen = [System.Collections.Generic.List[object]]::new()
        $err = {
            $script:Customers | Get-PartnerCustomerAccessToken -Scopes $script:Graph -ThrottleLimit 1 -Profile 'ps-customers' -ErrorAction Stop |
                ForEach-Object { $seen.Add($_) }
        } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Match '^AADSTS(50020|65001),Get-PartnerCustomerAccessToken$'
        $seen.Count | Should -BeLessThan $script:Customers.Count
        @($seen | Where-Object Status -EQ 'error').Count | Should -Be 1
        Start-Sleep -Milliseconds 200
        @(Get-CustomerTokensProcess).Count | Should -Be 0
    }
}
