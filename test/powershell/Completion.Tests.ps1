# Tab completion in real PowerShell (TabExpansion2): the module's -Environment, -Module, -Scopes
# and -Profile, and the script `partner-token completion powershell` generates for the CLI.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    function Get-Completion([string]$Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
    }
}

Describe 'The module''s completers' {
    It '-Environment' {
        $c = Get-Completion 'New-PartnerAccessToken -Environment AzureC'
        $c | Should -Contain 'AzureCloud'
        $c | Should -Contain 'AzureChinaCloud'
        $c | Should -Not -Contain 'AzurePPE'
        Get-Completion 'Get-PartnerEnvironment -Name Emu' | Should -Be @('Emulator')
    }
    It '-Module' {
        Get-Completion 'New-PartnerAccessToken -Module ' | Should -Be @('ExchangeOnline')
    }
    It '-Scopes (the well-known ones)' {
        $c = Get-Completion 'New-PartnerAccessToken -Scopes https://api.part'
        $c | Should -Contain "'https://api.partnercenter.microsoft.com/user_impersonation'"
        Get-Completion 'Get-PartnerCustomerAccessToken -Scopes https://gr' | Should -Be @("'https://graph.microsoft.com/.default'")
    }
    It '-Profile (the sessions in the cache folder)' {
        $saved = $env:PARTNER_TOKEN_CACHE_DIR
        $dir = Join-Path $env:PT_TEST_WORK 'completion-cache'
        New-Item -ItemType Directory -Force -Path (Join-Path $dir 'profiles') | Out-Null
        foreach ($f in 'contoso.json', 'contoso.key.json', 'ci.json') { Set-Content -LiteralPath (Join-Path $dir 'profiles' $f) -Value '{}' }
        try {
            $env:PARTNER_TOKEN_CACHE_DIR = $dir
            @(Get-Completion 'Get-PartnerAccessToken -Profile ' | Sort-Object) | Should -Be @('ci', 'contoso')
            Get-Completion 'Connect-PartnerCenter -Profile con' | Should -Be @('contoso')
        }
        finally { $env:PARTNER_TOKEN_CACHE_DIR = $saved }
    }
}

Describe 'partner-token completion powershell, in PowerShell' {
    BeforeAll {
        # `partner-token` on PATH (the completer is registered for that command name).
        $bin = Join-Path $env:PT_TEST_WORK 'completion-bin'
        New-Item -ItemType Directory -Force -Path $bin | Out-Null
        $exe = Join-Path $bin 'partner-token'
        Set-Content -LiteralPath $exe -Value "#!/bin/sh`nexec '$env:PARTNER_TOKEN_NODE' '$env:PARTNER_TOKEN_CLI' `"`$@`"`n"
        chmod 700 $exe
        $script:SavedPath = $env:PATH
        $env:PATH = "$bin$([System.IO.Path]::PathSeparator)$env:PATH"
        $script:Script = (& $exe completion powershell) -join "`n"
        $LASTEXITCODE | Should -Be 0
        Invoke-Expression $script:Script
    }
    AfterAll { $env:PATH = $script:SavedPath }
    It 'completes the commands' {
        $c = Get-Completion 'partner-token '
        foreach ($cmd in 'new', 'connect', 'token', 'status', 'customers', 'environments', 'emulator') { $c | Should -Contain $cmd }
        Get-Completion 'partner-token con' | Should -Be @('connect')
    }
    It 'completes the flags of a command, in both spellings' {
        $c = Get-Completion 'partner-token new --app'
        $c | Should -Contain '--application-id'
        $c = Get-Completion 'partner-token new -Applic'
        $c | Should -Contain '-ApplicationId'
    }
    It 'completes the values of -Environment and --module' {
        $c = Get-Completion 'partner-token new --environment AzureU'
        $c | Should -Be @('AzureUSGovernment')
        Get-Completion 'partner-token new -Module ' | Should -Contain 'ExchangeOnline'
    }
    It 'completes a value joined to its flag (-Environment:Azu, --output=t)' {
        # PowerShell replaces only the argument of -Environment:AzureU.
        $r = TabExpansion2 -inputScript 'partner-token new -Environment:AzureU' -cursorColumn 37
        @($r.CompletionMatches | ForEach-Object CompletionText) | Should -Be @('AzureUSGovernment')
        $r.ReplacementIndex | Should -Be 31
        Get-Completion 'partner-token token --output=t' | Should -Be @('--output=table', '--output=tsv')
    }
    It 'completes the subcommands of customers' {
        $c = Get-Completion 'partner-token customers '
        $c | Should -Contain 'list'
        $c | Should -Contain 'tokens'
    }
}
