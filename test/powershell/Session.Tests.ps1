# Connect-PartnerCenter, Get-PartnerAccessToken, Get-PartnerSession, Disconnect-PartnerCenter:
# sessions as a user runs them, each Describe with a profile of its own.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Credential = New-TestCredential
    $script:Fabrikam = ($script:Ready.customers | Where-Object domain -EQ 'fabrikam.onmicrosoft.com').id
}

Describe 'A user session (device code)' {
    BeforeAll {
        $script:Connected = Connect-PartnerCenter -UseDeviceAuthentication -Profile 'ps-user' 6>$null
    }
    AfterAll { Disconnect-PartnerCenter -Profile 'ps-user' -ErrorAction Ignore }
    It 'Connect-PartnerCenter returns an AuthResult for Partner Center with the profile' {
        $script:Connected.PSObject.TypeNames[0] | Should -Be 'PartnerToken.AuthResult'
        $script:Connected.Profile | Should -Be 'ps-user'
        $script:Connected.Scopes | Should -Contain 'https://api.partnercenter.microsoft.com/user_impersonation'
        $script:Connected.Account.Username | Should -Be $script:Ready.user.username
        # The refresh token stays in the encrypted session.
        $script:Connected.RefreshToken | Should -BeNullOrEmpty
    }
    It 'Get-PartnerSession describes it' {
        $s = Get-PartnerSession -Profile 'ps-user'
        $s.PSObject.TypeNames[0] | Should -Be 'PartnerToken.Session'
        $s.State | Should -Be 'ok'
        $s.Account | Should -Be $script:Ready.user.username
        $s.ApplicationId | Should -Be '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
        $s.RefreshTokenDaysLeft | Should -BeGreaterThan 80
        $s.ConnectedAt | Should -BeOfType [DateTimeOffset]
        $s.ExitCode | Should -Be 0
    }
    It 'Get-PartnerSession warns when the refresh token expires within -WarnDays' {
        $s = Get-PartnerSession -Profile 'ps-user' -WarnDays 120 -WarningVariable warnings 3>$null
        $s.ExitCode | Should -Be 3
        ($warnings -join ' ') | Should -BeLike '*expires in*'
    }
    It 'Get-PartnerAccessToken: a token for a customer tenant (-Tenant), then from the cache' {
        $a = Get-PartnerAccessToken -Scopes $script:Graph -Tenant $script:Fabrikam -Profile 'ps-user'
        $a.TenantId | Should -Be $script:Fabrikam
        $a.ExpiresOn | Should -BeOfType [DateTimeOffset]
        $b = Get-PartnerAccessToken -Scopes $script:Graph -Tenant $script:Fabrikam -Profile 'ps-user'
        $b.AccessToken | Should -Be $a.AccessToken
        $script:Cached = $a
    }
    It 'Get-PartnerAccessToken -ForceRefresh and -MinValidity renew' {
        $c = Get-PartnerAccessToken -Scopes $script:Graph -Tenant $script:Fabrikam -Profile 'ps-user' -ForceRefresh
        $c.AccessToken | Should -Not -Be $script:Cached.AccessToken
        $d = Get-PartnerAccessToken -Scopes $script:Graph -Tenant $script:Fabrikam -Profile 'ps-user' -MinValidity 86400
        $d.AccessToken | Should -Not -Be $c.AccessToken
    }
    It 'Disconnect-PartnerCenter forgets it; then Get-PartnerAccessToken is an AuthenticationError (ERR_NO_SESSION) and the session needs a sign-in' {
        Disconnect-PartnerCenter -Profile 'ps-user'
        $err = { Get-PartnerAccessToken -Profile 'ps-user' -Scopes $script:Graph } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'ERR_NO_SESSION,Get-PartnerAccessToken'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $s = Get-PartnerSession -Profile 'ps-user' -WarningVariable warnings 3>$null
        $s.State | Should -Be 'signInRequired'
        $s.ExitCode | Should -Be 4
        ($warnings -join ' ') | Should -BeLike '*Connect-PartnerCenter*'
    }
}

Describe 'Other ways to connect' {
    AfterAll {
        foreach ($p in 'ps-sp', 'ps-rt', 'ps-at') { Disconnect-PartnerCenter -Profile $p -ErrorAction Ignore }
    }
    It 'ServicePrincipal: app-only tokens from the session' {
        $c = Connect-PartnerCenter -ServicePrincipal -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Tenant $script:PartnerTenant -Profile 'ps-sp'
        $c.Account | Should -BeNullOrEmpty
        $t = Get-PartnerAccessToken -Scopes $script:Graph -Profile 'ps-sp'
        $t.TenantId | Should -Be $script:PartnerTenant
        (Get-PartnerSession -Profile 'ps-sp').Kind | Should -Be 'servicePrincipal'
    }
    It 'RefreshToken with -ApplicationId -Credential (the blog''s step 3) and -Environment' {
        $appUser = New-PartnerAccessToken -ApplicationId $script:Confidential.clientId -Credential $script:Credential -Scopes $script:PartnerCenter -ServicePrincipal -Tenant $script:PartnerTenant -UseAuthorizationCode 6>$null
        $c = Connect-PartnerCenter -ApplicationId $script:Confidential.clientId -Credential $script:Credential -RefreshToken $appUser.RefreshToken -Profile 'ps-rt'
        $c.Account.Username | Should -Be $script:Ready.user.username
        (Get-PartnerAccessToken -Scopes $script:Graph -Tenant $script:Fabrikam -Profile 'ps-rt').TenantId | Should -Be $script:Fabrikam
    }
    It 'Get-PartnerSession: the app secret the session renews with, its expiry read through Graph; -Offline skips it' {
        $s = Get-PartnerSession -Profile 'ps-rt' -WarnDays 1
        $s.AppCredential.PSObject.TypeNames[0] | Should -Be 'PartnerToken.AppCredential'
        $s.AppCredential.Kind | Should -Be 'secret'
        $s.AppCredential.Hint | Should -Be $script:Confidential.clientSecret.Substring(0, 3)
        $s.AppCredential.Found | Should -BeTrue
        $s.ExitCode | Should -Be 0
        (Get-PartnerSession -Profile 'ps-rt' -Offline).AppCredential | Should -BeNullOrEmpty
    }
    It 'AccessToken: the session holds the token given' {
        $at = Get-PartnerAccessToken -Scopes $script:PartnerCenter -Profile 'ps-rt'
        $c = Connect-PartnerCenter -AccessToken $at.AccessToken -Profile 'ps-at'
        $c.AccessToken | Should -Be $at.AccessToken
    }
    It 'Get-PartnerAccessToken without a session: exit 4 becomes AuthenticationError' {
        $err = { Get-PartnerAccessToken -Profile 'ps-none' } | Should -Throw -PassThru
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
    }
}
