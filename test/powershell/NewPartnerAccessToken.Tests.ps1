# New-PartnerAccessToken and New-SecMgmtAccessToken: every parameter set of the seeds
# (000: PartnerCenter 3.x, 001: 1.5.x, 002: SecMgmt), their aliases and PowerShell's own errors for
# impossible combinations, against the emulator.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Credential = New-TestCredential
    # The PartnerCenter 3.x tables (seed 000): set → mandatory, optional (besides Environment).
    $script:PartnerSets = @{
        AccessToken                 = @{ Mandatory = 'AccessToken', 'ApplicationId', 'Scopes'; Optional = 'Credential', 'Environment', 'Tenant' }
        RefreshToken                = @{ Mandatory = 'RefreshToken', 'Scopes'; Optional = 'ApplicationId', 'CertificateThumbprint', 'Credential', 'Environment', 'Module', 'ServicePrincipal', 'Tenant' }
        ServicePrincipal            = @{ Mandatory = 'ApplicationId', 'Credential', 'Scopes', 'Tenant'; Optional = 'Environment', 'ServicePrincipal', 'UseAuthorizationCode' }
        ServicePrincipalCertificate = @{ Mandatory = 'ApplicationId', 'CertificateThumbprint', 'Scopes', 'Tenant'; Optional = 'Environment', 'ServicePrincipal', 'UseAuthorizationCode' }
        User                        = @{ Mandatory = 'ApplicationId', 'Scopes'; Optional = 'Environment', 'Tenant', 'UseAuthorizationCode', 'UseDeviceAuthentication' }
        ByModule                    = @{ Mandatory = 'Module'; Optional = 'Environment', 'RefreshToken', 'Tenant', 'UseAuthorizationCode' }
    }
    # The SecMgmt tables (seed 002).
    $script:SecMgmtSets = @{
        RefreshToken                = @{ Mandatory = 'RefreshToken', 'Scopes'; Optional = 'ApplicationId', 'CertificateThumbprint', 'Credential', 'Environment', 'ServicePrincipal', 'Tenant' }
        ServicePrincipal            = @{ Mandatory = 'ApplicationId', 'Credential', 'Scopes', 'ServicePrincipal', 'Tenant'; Optional = 'Environment', 'UseAuthorizationCode' }
        ServicePrincipalCertificate = @{ Mandatory = 'ApplicationId', 'CertificateThumbprint', 'Scopes', 'Tenant'; Optional = 'Environment', 'ServicePrincipal', 'UseAuthorizationCode' }
        User                        = @{ Mandatory = 'ApplicationId', 'Scopes'; Optional = 'Environment', 'Tenant', 'UseAuthorizationCode', 'UseDeviceAuthentication' }
    }
    function Get-SetShape([string]$Command, [string]$Set) {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $ps = (Get-Command $Command).ParameterSets | Where-Object Name -eq $Set
        $own = $ps.Parameters | Where-Object { $_.Name -notin $common }
        @{
            Mandatory = @($own | Where-Object IsMandatory | ForEach-Object Name | Sort-Object)
            Optional  = @($own | Where-Object { -not $_.IsMandatory } | ForEach-Object Name | Sort-Object)
        }
    }
    # A JWT whose exp has passed (the AccessToken set decodes it without a network call).
    function New-ExpiredJwt {
        $b64 = { param($s) [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($s)).TrimEnd('=').Replace('+', '-').Replace('/', '_') }
        $header = & $b64 (@{ alg = 'RS256'; typ = 'JWT' } | ConvertTo-Json -Compress)
        $claims = & $b64 (@{ exp = [DateTimeOffset]::UtcNow.AddHours(-1).ToUnixTimeSeconds(); tid = $script:PartnerTenant; aud = 'https://graph.microsoft.com' } | ConvertTo-Json -Compress)
        "$header.$claims.c2lnbmF0dXJl"
    }
}

Describe 'New-PartnerAccessToken parameter sets' {
    It 'has the sets of PartnerCenter 3.x with their mandatory and optional parameters exactly' {
        foreach ($set in $script:PartnerSets.Keys) {
            $shape = Get-SetShape 'New-PartnerAccessToken' $set
            $shape.Mandatory | Should -Be @($script:PartnerSets[$set].Mandatory | Sort-Object) -Because "mandatory in $set"
            $shape.Optional | Should -Be @($script:PartnerSets[$set].Optional | Sort-Object) -Because "optional in $set"
        }
    }
    It 'has the 1.5.x sets: -Resource, -Consent, -TenantId' {
        (Get-SetShape 'New-PartnerAccessToken' 'UserResource').Mandatory | Should -Be @('ApplicationId', 'Resource')
        (Get-SetShape 'New-PartnerAccessToken' 'ServicePrincipalResource').Mandatory | Should -Be @('Credential', 'Resource', 'Tenant')
        (Get-SetShape 'New-PartnerAccessToken' 'ServicePrincipalResource').Optional | Should -Contain 'Consent'
        (Get-Command New-PartnerAccessToken).Parameters['Tenant'].Aliases | Should -Contain 'TenantId'
    }
    It 'has the aliases of the seed' {
        $p = (Get-Command New-PartnerAccessToken).Parameters
        $p['ApplicationId'].Aliases | Should -Be @('ClientId')
        @($p['Tenant'].Aliases | Sort-Object) | Should -Be @('Domain', 'TenantId')
        $p['Environment'].Aliases | Should -Be @('EnvironmentName')
        $p['Module'].Aliases | Should -Be @('ModuleName')
        $p['UseAuthorizationCode'].Aliases | Should -Be @('AuthCode')
        @($p['UseDeviceAuthentication'].Aliases | Sort-Object) | Should -Be @('Device', 'DeviceAuth', 'DeviceCode')
        $p['Scopes'].ParameterType | Should -Be ([string[]])
        $p['Credential'].ParameterType | Should -Be ([pscredential])
    }
    It 'defaults to the User set' {
        (Get-Command New-PartnerAccessToken).DefaultParameterSet | Should -Be 'User'
    }
    It 'New-SecMgmtAccessToken has the sets of SecMgmt exactly (no AccessToken, no ByModule)' {
        @((Get-Command New-SecMgmtAccessToken).ParameterSets.Name | Sort-Object) | Should -Be @('RefreshToken', 'ServicePrincipal', 'ServicePrincipalCertificate', 'User')
        foreach ($set in $script:SecMgmtSets.Keys) {
            $shape = Get-SetShape 'New-SecMgmtAccessToken' $set
            $shape.Mandatory | Should -Be @($script:SecMgmtSets[$set].Mandatory | Sort-Object) -Because "mandatory in $set"
            $shape.Optional | Should -Be @($script:SecMgmtSets[$set].Optional | Sort-Object) -Because "optional in $set"
        }
    }
}

Describe 'PowerShell refuses impossible combinations before anything runs' {
    BeforeAll { Clear-RecordedCommandLine }
    It '<Name>' -ForEach @(
        @{ Name = 'AccessToken with RefreshToken'; Id = 'AmbiguousParameterSet'; Call = { New-PartnerAccessToken -AccessToken 'a' -RefreshToken 'r' -ApplicationId 'x' -Scopes 's' } }
        @{ Name = 'device code with a service principal'; Id = 'AmbiguousParameterSet'; Call = { New-PartnerAccessToken -ApplicationId 'x' -Scopes 's' -UseDeviceAuthentication -ServicePrincipal } }
        @{ Name = 'Module with Scopes needs a RefreshToken'; Id = 'MissingMandatoryParameter'; Call = { New-PartnerAccessToken -Module ExchangeOnline -Scopes 's' } }
        @{ Name = 'Scopes alone needs an ApplicationId'; Id = 'MissingMandatoryParameter'; Call = { New-PartnerAccessToken -Scopes 's' } }
        @{ Name = 'a certificate with a device code'; Id = 'AmbiguousParameterSet'; Call = { New-PartnerAccessToken -ApplicationId 'x' -Scopes 's' -Tenant 't' -CertificateThumbprint 'AB' -UseDeviceAuthentication } }
        @{ Name = 'a module the cmdlet does not know'; Id = 'ParameterArgumentValidationError'; Call = { New-PartnerAccessToken -Module 'Teams' } }
        @{ Name = 'SecMgmt has no AccessToken'; Id = 'NamedParameterNotFound'; Call = { New-SecMgmtAccessToken -AccessToken 'a' -ApplicationId 'x' -Scopes 's' } }
        @{ Name = 'SecMgmt ServicePrincipal set needs the switch'; Id = 'MissingMandatoryParameter'; Call = { New-SecMgmtAccessToken -ApplicationId 'x' -Credential (New-TestCredential) -Scopes 's' -Tenant 't' -UseAuthorizationCode } }
    ) {
        $err = { & $Call } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,New-*AccessToken"
    }
}

Describe 'New-PartnerAccessToken against the emulator' {
    It 'ServicePrincipal: client credentials (-ClientId, -Domain, -EnvironmentName aliases)' {
        $t = New-PartnerAccessToken -ClientId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:Graph -ServicePrincipal -Domain $script:Ready.partnerTenant.domain
        $t.PSObject.TypeNames[0] | Should -Be 'PartnerToken.AuthResult'
        $t.AccessToken | Should -Match '^ey'
        $t.TenantId | Should -Be $script:PartnerTenant
        $t.Account | Should -BeNullOrEmpty
        $t.RefreshToken | Should -BeNullOrEmpty
        $t.Scopes | Should -Be @($script:Graph)
    }
    It 'ServicePrincipal + UseAuthorizationCode (-AuthCode): App + User, with a refresh token' {
        $t = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:PartnerCenter -ServicePrincipal -Tenant $script:PartnerTenant -AuthCode 6>$null
        $t.RefreshToken | Should -Not -BeNullOrEmpty
        $t.Account.Username | Should -Be $script:Ready.user.username
        $t.Account.HomeAccountId.Identifier | Should -Be "$($t.Account.HomeAccountId.ObjectId).$($t.Account.HomeAccountId.TenantId)"
        $script:AppUserToken = $t
    }
    It 'RefreshToken: a new access token and a rotated refresh token' {
        $t = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -RefreshToken $script:AppUserToken.RefreshToken -Scopes $script:Graph -ServicePrincipal -TenantId $script:PartnerTenant
        $t.RefreshToken | Should -Not -BeNullOrEmpty
        $t.RefreshToken | Should -Not -Be $script:AppUserToken.RefreshToken
        $t.Scopes | Should -Contain 'https://graph.microsoft.com/User.Read'
    }
    It 'RefreshToken without -ApplicationId: the credential''s user name is the client id' {
        $t = New-PartnerAccessToken -Credential $script:Credential -RefreshToken $script:AppUserToken.RefreshToken -Scopes $script:Graph
        $t.AccessToken | Should -Not -BeNullOrEmpty
    }
    It 'AccessToken: the token given, decoded without a network call' {
        $t = New-PartnerAccessToken -AccessToken $script:AppUserToken.AccessToken -ApplicationId $script:Confidential.clientId -Scopes $script:PartnerCenter
        $t.AccessToken | Should -Be $script:AppUserToken.AccessToken
        $t.Account.Username | Should -Be $script:Ready.user.username
    }
    It 'AccessToken: an expired token is a terminating AuthenticationError with the CLI''s code' {
        $err = { New-PartnerAccessToken -AccessToken (New-ExpiredJwt) -ApplicationId $script:Confidential.clientId -Scopes $script:Graph } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'ERR_ACCESS_TOKEN_EXPIRED,New-PartnerAccessToken'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -BeLike '*The access token has expired. Generate a new one and try again.*'
    }
    It 'User: the browser sign-in with a public client (no switch)' {
        $t = New-PartnerAccessToken -ApplicationId $script:PublicApp -Scopes $script:Graph 6>$null
        $t.RefreshToken | Should -Not -BeNullOrEmpty
        $t.IdToken | Should -Not -BeNullOrEmpty
        $t.UniqueId | Should -Be $t.Account.HomeAccountId.ObjectId
    }
    It 'User: -UseDeviceAuthentication and its aliases <Alias>' -ForEach @(@{ Alias = 'DeviceCode' }, @{ Alias = 'DeviceAuth' }, @{ Alias = 'Device' }) {
        $splat = @{ ApplicationId = $script:PublicApp; Scopes = $script:Graph; $Alias = $true }
        $info = New-PartnerAccessToken @splat 6>&1
        $result = $info | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] }
        $shown = ($info | Where-Object { $_ -is [System.Management.Automation.InformationRecord] }) -join "`n"
        $shown | Should -BeLike '*devicelogin*'
        $result.RefreshToken | Should -Not -BeNullOrEmpty
    }
    It 'ByModule: ExchangeOnline by device code, then with its refresh token (-ModuleName)' {
        $t = New-PartnerAccessToken -Module ExchangeOnline 6>$null
        $t.Scopes | Should -Contain 'https://outlook.office365.com/Exchange.Manage'
        $again = New-PartnerAccessToken -ModuleName ExchangeOnline -RefreshToken $t.RefreshToken
        $again.RefreshToken | Should -Not -Be $t.RefreshToken
    }
    It 'ByModule with -UseAuthorizationCode: the browser, with Exchange Online PowerShell''s app' {
        $t = New-PartnerAccessToken -Module ExchangeOnline -UseAuthorizationCode 6>$null
        $t.Scopes | Should -Contain 'https://outlook.office365.com/Exchange.Manage'
        $t.RefreshToken | Should -Not -BeNullOrEmpty
    }
    It '1.5.x -Resource with -Credential -TenantId (no -ApplicationId): RESOURCE/.default' {
        $t = New-PartnerAccessToken -Credential $script:Credential -TenantId $script:PartnerTenant -Resource 'https://graph.microsoft.com' -Consent
        $t.Scopes | Should -Be @('https://graph.microsoft.com/.default')
    }
    It '1.5.x -Resource with -ApplicationId: a user sign-in' {
        $t = New-PartnerAccessToken -ApplicationId $script:PublicApp -Resource 'https://graph.microsoft.com' 6>$null
        $t.Account.Username | Should -Be $script:Ready.user.username
    }
    It '-Environment Emulator is passed to the CLI (a wrong name is the CLI''s usage error)' {
        $err = { New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:Graph -ServicePrincipal -Tenant $script:PartnerTenant -Environment 'Mars' } | Should -Throw -PassThru
        $err.CategoryInfo.Category | Should -BeIn 'InvalidArgument', 'ObjectNotFound'
        $err.Exception.Message | Should -BeLike '*Mars*'
    }
    It 'New-SecMgmtAccessToken: ServicePrincipal and RefreshToken sets' {
        $t = New-SecMgmtAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:Graph -ServicePrincipal -Tenant $script:PartnerTenant
        $t.AccessToken | Should -Not -BeNullOrEmpty
        $r = New-SecMgmtAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -RefreshToken $script:AppUserToken.RefreshToken -Scopes $script:Graph -ServicePrincipal -Tenant 'fabrikam.onmicrosoft.com'
        $r.TenantId | Should -Be ($script:Ready.customers | Where-Object domain -EQ 'fabrikam.onmicrosoft.com').id
    }
    It 'the Learn page''s examples (seed 000) run as written' {
        # Example 1
        $credential = New-TestCredential
        $ex1 = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Credential $credential -Tenant $script:PartnerTenant -UseAuthorizationCode 6>$null
        # Example 2
        $refreshToken = $ex1.RefreshToken
        $ex2 = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $credential -RefreshToken $refreshToken -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Tenant $script:PartnerTenant
        $ex1.RefreshToken | Should -Not -BeNullOrEmpty
        $ex2.RefreshToken | Should -Not -BeNullOrEmpty
        $ex2.RefreshToken | Should -Not -Be $ex1.RefreshToken
    }
}

Describe 'Errors' {
    It 'a wrong client secret: AADSTS7000215 in FullyQualifiedErrorId, AuthenticationError, the hint, no secret' {
        $bad = New-TestCredential -Secret 'Wrong~Secret.Value-0123456789abcdef'
        $err = { New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $bad -Scopes $script:Graph -ServicePrincipal -Tenant $script:PartnerTenant } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike '*AADSTS7000215*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        Get-ErrorRecordText $err | Should -Not -BeLike '*Wrong~Secret.Value*'
    }
    It 'an unknown tenant: AADSTS90002' {
        $err = { New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:Graph -ServicePrincipal -Tenant '90000000-0000-0000-0000-000000000000' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike '*AADSTS90002*'
    }
    It 'a bad refresh token: exit 4 becomes AuthenticationError; the token is in no record' {
        $rt = '0.Bad-refresh-token-' + [guid]::NewGuid()
        $err = { New-PartnerAccessToken -RefreshToken $rt -ApplicationId $script:PublicApp -Scopes $script:Graph } | Should -Throw -PassThru
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.FullyQualifiedErrorId | Should -Match '^ERR_'
        Get-ErrorRecordText $err | Should -Not -BeLike "*$rt*"
    }
    It 'the server unreachable: ResourceUnavailable' {
        $saved = $env:AZURE_AUTHORITY_HOST
        try {
            $env:AZURE_AUTHORITY_HOST = 'https://127.0.0.1:9'
            $err = { New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:Graph -ServicePrincipal -Tenant $script:PartnerTenant } | Should -Throw -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.FullyQualifiedErrorId | Should -BeLike 'ERR_NETWORK*'
        }
        finally { $env:AZURE_AUTHORITY_HOST = $saved }
    }
    It 'an empty -RefreshToken is refused with the parameter''s name' {
        $err = { New-PartnerAccessToken -RefreshToken '' -ApplicationId $script:PublicApp -Scopes $script:Graph } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike '*RefreshToken*'
    }
}

Describe 'Error categories' {
    It 'exit <Exit> with <Code> is <Category>' -ForEach @(
        @{ Exit = 130; Code = ''; Category = 'OperationStopped' }
        @{ Exit = 2; Code = 'ERR_PARAMETER_SET'; Category = 'InvalidArgument' }
        @{ Exit = 4; Code = 'ERR_AADSTS700082'; Category = 'AuthenticationError' }
        @{ Exit = 1; Code = 'ERR_AADSTS7000215'; Category = 'AuthenticationError' }
        @{ Exit = 1; Code = 'ERR_NETWORK'; Category = 'ResourceUnavailable' }
        @{ Exit = 1; Code = 'ERR_CERTIFICATE_NOT_FOUND'; Category = 'ObjectNotFound' }
        @{ Exit = 1; Code = 'ERR_UNEXPECTED'; Category = 'InvalidOperation' }
    ) {
        $line = if ($Code) { "partner-token: it failed [$Code]" } else { 'partner-token: cancelled.' }
        $record = InModuleScope PartnerToken -Parameters @{ E = $Exit; L = $line } {
            param($E, $L)
            New-PartnerTokenErrorRecord -ExitCode $E -StderrLines @('progress', $L, '', 'Do this next.') -Command 'partner-token new'
        }
        $record.CategoryInfo.Category | Should -Be $Category
        $record.FullyQualifiedErrorId | Should -Be $(if ($Code) { $Code } else { 'ERR_CANCELLED' })
        if ($Code) { $record.ErrorDetails.RecommendedAction | Should -Be 'Do this next.' }
    }
}

Describe 'Cancelled' {
    It 'a CLI interrupted (SIGINT, as Ctrl-C sends it) ends in a terminating OperationStopped error' {
        # The token endpoint answers 20 s late; meanwhile a thread sends SIGINT to the CLI.
        Invoke-EmulatorControl POST 'faults' @{ path = '/'; count = 1; delayMs = 20000 } | Out-Null
        $interrupter = Start-ThreadJob -ArgumentList $PID -ScriptBlock {
            param($parent)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ([DateTime]::UtcNow -lt $deadline) {
                $child = Get-Process | Where-Object { $_.Parent -and $_.Parent.Id -eq $parent } | Where-Object {
                    $c = Get-Content -Raw -LiteralPath "/proc/$($_.Id)/cmdline" -ErrorAction Ignore
                    $c -and $c -like "*$([System.IO.Path]::GetFileName($env:PARTNER_TOKEN_CLI))`0new*"
                } | Select-Object -First 1
                if ($child) {
                    # Let it reach the waiting request before the signal.
                    Start-Sleep -Seconds 2
                    & kill -INT $child.Id
                    return $child.Id
                }
                Start-Sleep -Milliseconds 50
            }
        }
        try {
            $err = { New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:Graph -ServicePrincipal -Tenant $script:PartnerTenant } | Should -Throw -PassThru
        }
        finally { Invoke-EmulatorControl DELETE 'faults' | Out-Null }
        $interrupted = $interrupter | Wait-Job -Timeout 70 | Receive-Job
        Remove-Job $interrupter -Force
        $interrupted | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'OperationStopped'
        $err.FullyQualifiedErrorId | Should -BeLike 'ERR_CANCELLED*,New-PartnerAccessToken'
        $err.Exception.Data['ExitCode'] | Should -Be 130
    }
}

Describe 'Secrets stay out of the command line and the streams' {
    It 'a refresh token and a client secret given to the RefreshToken set are not in the command line while it runs' {
        $rt = (New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:PartnerCenter -ServicePrincipal -Tenant $script:PartnerTenant -UseAuthorizationCode 6>$null).RefreshToken
        # The token endpoint answers 3 s late, while a thread records the command lines of this
        # PowerShell's child processes.
        Invoke-EmulatorControl POST 'faults' @{ path = '/'; count = 1; delayMs = 3000 } | Out-Null
        $watch = Start-ThreadJob -ArgumentList $PID -ScriptBlock {
            param($parent)
            $seen = @{}
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ([DateTime]::UtcNow -lt $deadline -and $seen.Count -eq 0) {
                foreach ($p in Get-Process) {
                    if ($p.Parent -and $p.Parent.Id -eq $parent) {
                        $c = Get-Content -Raw -LiteralPath "/proc/$($p.Id)/cmdline" -ErrorAction Ignore
                        if ($c -and $c -like "*$([System.IO.Path]::GetFileName($env:PARTNER_TOKEN_CLI))`0new*") { $seen[$p.Id] = $c -replace "`0", ' ' }
                    }
                }
                Start-Sleep -Milliseconds 50
            }
            $seen.Values
        }
        try {
            $t = New-PartnerAccessToken -RefreshToken $rt -Credential (New-TestCredential) -Scopes $script:Graph
        }
        finally { Invoke-EmulatorControl DELETE 'faults' | Out-Null }
        $lines = @($watch | Wait-Job -Timeout 70 | Receive-Job)
        Remove-Job $watch -Force
        $t.RefreshToken | Should -Not -BeNullOrEmpty
        $lines.Count | Should -BeGreaterThan 0
        foreach ($line in $lines) {
            $line | Should -BeLike '*--refresh-token env:PARTNER_TOKEN_PS_REFRESH_TOKEN*'
            $line | Should -Not -BeLike "*$rt*"
            $line | Should -Not -BeLike "*$($script:Confidential.clientSecret)*"
        }
    }
    It 'the partner-token process''s command line holds neither the secret nor the refresh token, verbose and debug neither' {
        Clear-RecordedCommandLine
        $first = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:PartnerCenter -ServicePrincipal -Tenant $script:PartnerTenant -UseAuthorizationCode 6>$null
        # The test browser saved the command line of the partner-token process that started it,
        # while that process was waiting for the sign-in with the secret in hand.
        $lines = @(Get-RecordedCommandLine)
        $lines.Count | Should -BeGreaterThan 0
        foreach ($line in $lines) {
            $line | Should -BeLike "*$([System.IO.Path]::GetFileName($env:PARTNER_TOKEN_CLI)) new*"
            $line | Should -Not -BeLike "*$($script:Confidential.clientSecret)*"
            $line | Should -BeLike '*env:PARTNER_TOKEN_PS_CLIENT_SECRET*'
        }
        $streams = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -RefreshToken $first.RefreshToken -Scopes $script:Graph -ServicePrincipal -Tenant $script:PartnerTenant -Verbose -Debug 4>&1 5>&1
        $records = @($streams | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -or $_ -is [System.Management.Automation.DebugRecord] })
        $records.Count | Should -BeGreaterThan 0
        $result = $streams | Where-Object { $_.PSObject.TypeNames -contains 'PartnerToken.AuthResult' }
        $text = ($records | ForEach-Object Message) -join "`n"
        $text | Should -BeLike '*POST*token*'
        $text | Should -Not -BeLike "*$($script:Confidential.clientSecret)*"
        $text | Should -Not -BeLike "*$($first.RefreshToken)*"
        $text | Should -Not -BeLike "*$($result.RefreshToken)*"
        $text | Should -Not -BeLike "*$($result.AccessToken)*"
    }
}
