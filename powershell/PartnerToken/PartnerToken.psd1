@{
    RootModule           = 'PartnerToken.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f3c1e-8a47-4d2b-9f3e-6c1d2a7e4b90'
    Author               = 'The partner-token authors'
    CompanyName          = 'partner-token'
    Copyright            = '(c) 2026 The partner-token authors. MIT License.'
    Description          = 'New-PartnerAccessToken, New-SecMgmtAccessToken, Connect-PartnerCenter and their companions on PowerShell 7 on Linux, macOS and Windows: Microsoft Entra ID access and refresh tokens for Partner Center, Graph and Exchange Online, over the partner-token command line.'
    PowerShellVersion    = '7.2'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('PartnerToken.format.ps1xml')
    TypesToProcess       = @('PartnerToken.types.ps1xml')
    FunctionsToExport    = @(
        'New-PartnerAccessToken'
        'New-SecMgmtAccessToken'
        'Connect-PartnerCenter'
        'Disconnect-PartnerCenter'
        'Get-PartnerAccessToken'
        'Get-PartnerSession'
        'Get-PartnerCustomer'
        'Get-PartnerCustomerAccessToken'
        'Get-PartnerEnvironment'
        'Start-PartnerTokenEmulator'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('PartnerCenter', 'CSP', 'EntraID', 'AzureAD', 'OAuth', 'RefreshToken', 'AccessToken', 'MSAL', 'Linux', 'MacOS', 'Windows')
            LicenseUri   = 'https://opensource.org/license/mit'
            ProjectUri   = 'https://www.npmjs.com/package/partner-token'
            ReleaseNotes = 'See docs/powershell.md in the partner-token package.'
        }
    }
}
