# -CertificateThumbprint as the original looked it up: the .NET store My of CurrentUser (then
# LocalMachine), lent to the CLI as a 0600 PFX removed when it is done; else the CLI's own
# certificate folder.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:App = $script:Ready.apps.certificate
    $pem = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile($script:App.certificateFile, $script:App.keyFile)
    $pfx = $pem.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, 'pw')
    $script:Cert = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12($pfx, 'pw',
        [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'Exportable, PersistKeySet')
    $script:Cert.Thumbprint | Should -Be $script:App.thumbprint
    function Use-MyStore([scriptblock]$Action) {
        $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
        $store.Open('ReadWrite')
        try { & $Action $store } finally { $store.Dispose() }
    }
    function Get-LentCertificateFolder {
        @(Get-ChildItem -LiteralPath ([System.IO.Path]::GetTempPath()) -Directory -Filter 'partner-token-ps-*' -ErrorAction Ignore)
    }
}

Describe 'A certificate in the CurrentUser My store, by thumbprint' {
    BeforeAll { Use-MyStore { param($s) $s.Add($script:Cert) } }
    AfterAll { Use-MyStore { param($s) $s.Remove($script:Cert) } }
    It 'ServicePrincipalCertificate: client credentials with the store''s certificate; nothing left on disk' {
        $before = @(Get-LentCertificateFolder)
        $t = New-PartnerAccessToken -ApplicationId $script:App.clientId -CertificateThumbprint $script:App.thumbprint.ToLowerInvariant() -Scopes $script:Graph -Tenant $script:PartnerTenant -ServicePrincipal -Verbose 4>$null
        $t.TenantId | Should -Be $script:PartnerTenant
        $t.Account | Should -BeNullOrEmpty
        @(Get-LentCertificateFolder).Count | Should -Be $before.Count
    }
    It 'New-SecMgmtAccessToken too' {
        $t = New-SecMgmtAccessToken -ApplicationId $script:App.clientId -CertificateThumbprint $script:App.thumbprint -Scopes $script:Graph -Tenant $script:PartnerTenant
        $t.AccessToken | Should -Match '^ey'
    }
}

Describe 'A certificate not in the store' {
    It 'is looked up in the CLI''s certificate folder (PARTNER_TOKEN_CERTIFICATE_DIR)' {
        $file = Join-Path $env:PARTNER_TOKEN_CERTIFICATE_DIR 'app.pem'
        Set-Content -LiteralPath $file -Value ((Get-Content -Raw $script:App.certificateFile) + (Get-Content -Raw $script:App.keyFile)) -NoNewline
        try {
            $t = New-PartnerAccessToken -ApplicationId $script:App.clientId -CertificateThumbprint $script:App.thumbprint -Scopes $script:Graph -Tenant $script:PartnerTenant
            $t.TenantId | Should -Be $script:PartnerTenant
        }
        finally { Remove-Item -LiteralPath $file }
    }
    It 'found nowhere: the CLI''s ERR_CERTIFICATE_NOT_FOUND' {
        $err = { New-PartnerAccessToken -ApplicationId $script:App.clientId -CertificateThumbprint ('AB' * 20) -Scopes $script:Graph -Tenant $script:PartnerTenant } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'ERR_CERTIFICATE_NOT_FOUND,New-PartnerAccessToken'
    }
}
