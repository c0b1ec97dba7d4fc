# -CertificateThumbprint as the original looked it up: the .NET store My of CurrentUser (then
# LocalMachine), lent to the CLI as a 0600 PFX removed when it is done; else the CLI's own
# certificate folder. A session (Connect-PartnerCenter) renews from the store: on Linux the CLI
# reads .NET's store folder itself.
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
    It 'Connect-PartnerCenter: the session renews with the store''s certificate, read by the CLI at each renewal' {
        @(Get-ChildItem -LiteralPath $env:PARTNER_TOKEN_CERTIFICATE_DIR).Count | Should -Be 0
        $before = @(Get-LentCertificateFolder)
        try {
            $c = Connect-PartnerCenter -ServicePrincipal -ApplicationId $script:App.clientId -CertificateThumbprint $script:App.thumbprint -Tenant $script:PartnerTenant -Scopes $script:Graph -Profile 'ps-cert-store'
            $c.TenantId | Should -Be $script:PartnerTenant
            # A resource the session has no token for yet: a new client assertion, signed with the
            # key the CLI found in the store.
            $t = Get-PartnerAccessToken -Scopes 'https://management.azure.com/.default' -Profile 'ps-cert-store'
            $t.TenantId | Should -Be $script:PartnerTenant
            @(Get-LentCertificateFolder).Count | Should -Be $before.Count
            # Gone from the store, the next renewal has nothing to sign with.
            Use-MyStore { param($s) $s.Remove($script:Cert) }
            try {
                $err = { Get-PartnerAccessToken -Scopes 'https://outlook.office365.com/.default' -Profile 'ps-cert-store' } | Should -Throw -PassThru
                $err.FullyQualifiedErrorId | Should -Be 'ERR_CERTIFICATE_NOT_FOUND,Get-PartnerAccessToken'
                $err.Exception.Message | Should -BeLike '*.dotnet*x509stores*my*'
            }
            finally { Use-MyStore { param($s) $s.Add($script:Cert) } }
        }
        finally { Disconnect-PartnerCenter -Profile 'ps-cert-store' -ErrorAction Ignore }
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
    It 'Connect-PartnerCenter where the CLI cannot read the store (Windows, macOS): says the certificate is there, and what to do' {
        Mock -ModuleName PartnerToken Test-CliReadsCertificateStore { $false }
        Mock -ModuleName PartnerToken Get-StoreCertificate { [pscustomobject]@{ HasPrivateKey = $true } }
        $thumbprint = 'AB' * 20
        $err = { Connect-PartnerCenter -ServicePrincipal -ApplicationId $script:App.clientId -CertificateThumbprint $thumbprint -Tenant $script:PartnerTenant -Profile 'ps-cert-nowhere' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'ERR_CERTIFICATE_NOT_FOUND,Connect-PartnerCenter'
        $err.Exception.Message | Should -BeLike "The certificate $thumbprint is in the certificate store My, which partner-token cannot read on this system*"
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*certificate folder*PFX without a password*New-PartnerAccessToken -CertificateThumbprint*'
        $err.Exception.InnerException.Message | Should -BeLike "No certificate with thumbprint $thumbprint*"
        Should -Invoke -ModuleName PartnerToken Get-StoreCertificate -Times 1 -Exactly -ParameterFilter { $Thumbprint -eq 'AB' * 20 }
    }
    It 'Connect-PartnerCenter where the CLI reads the store itself (Linux): the CLI''s own error stands' {
        Mock -ModuleName PartnerToken Test-CliReadsCertificateStore { $true }
        Mock -ModuleName PartnerToken Get-StoreCertificate { [pscustomobject]@{ HasPrivateKey = $true } }
        $err = { Connect-PartnerCenter -ServicePrincipal -ApplicationId $script:App.clientId -CertificateThumbprint ('AB' * 20) -Tenant $script:PartnerTenant -Profile 'ps-cert-nowhere' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'ERR_CERTIFICATE_NOT_FOUND,Connect-PartnerCenter'
        $err.Exception.Message | Should -BeLike 'No certificate with thumbprint*'
    }
    It 'found nowhere: the CLI''s ERR_CERTIFICATE_NOT_FOUND' {
        $err = { New-PartnerAccessToken -ApplicationId $script:App.clientId -CertificateThumbprint ('AB' * 20) -Scopes $script:Graph -Tenant $script:PartnerTenant } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'ERR_CERTIFICATE_NOT_FOUND,New-PartnerAccessToken'
    }
}
