# The seed's blog script (003, "Generate Microsoft Partner Center Refresh Token"), steps 2–4, with
# its placeholders filled from the emulator's ready line and nothing else changed: App + User with
# New-PartnerAccessToken, Connect-PartnerCenter with that refresh token, then
# New-PartnerAccessToken -RefreshToken.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Blog = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'fixtures' 'blog-003.ps1')
}

Describe 'The blog script' {
    It 'fills exactly four placeholders' {
        ([regex]::Matches($script:Blog, '= ""')).Count | Should -Be 2
        ([regex]::Matches($script:Blog, '-String ""')).Count | Should -Be 1
        ([regex]::Matches($script:Blog, '"<refresh_token>"')).Count | Should -Be 1
    }
    It 'completes; the refresh tokens are non-empty and rotate' {
        $filled = $script:Blog.
            Replace('$appId = ""', "`$appId = `"$($script:Confidential.clientId)`"").
            Replace('-String ""', "-String `"$($script:Confidential.clientSecret)`"").
            Replace('$tenantId = ""', "`$tenantId = `"$($script:PartnerTenant)`"").
            # The refresh token the blog's reader stored after step 2.
            Replace('"<refresh_token>"', '$token.RefreshToken')
        $connected = $null
        # Run as a script in this scope, as a reader pastes it; Connect-PartnerCenter's output is
        # what the console would show.
        $connected = . ([scriptblock]::Create($filled)) 6>$null
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        $token.Account.Username | Should -Be $script:Ready.user.username
        $token.Scopes | Should -Contain 'https://api.partnercenter.microsoft.com/user_impersonation'
        $newToken.RefreshToken | Should -Not -BeNullOrEmpty
        $newToken.RefreshToken | Should -Not -Be $token.RefreshToken
        $newToken.AccessToken | Should -Not -Be $token.AccessToken
        $connected.PSObject.TypeNames | Should -Contain 'PartnerToken.AuthResult'
        $connected.Profile | Should -Be 'default'
        (Get-PartnerSession).Account | Should -Be $script:Ready.user.username
    }
}
