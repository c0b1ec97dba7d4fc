# PartnerToken: New-PartnerAccessToken and its companions as PowerShell cmdlets, over the
# partner-token command line. Every cmdlet runs the CLI as a child process; secrets reach it in
# the child's environment (`--credential env:NAME`), never in its arguments, which other users
# can read (`ps`, /proc/<pid>/cmdline). The CLI prints its result as JSON on stdout and
# everything a person reads on stderr; its exit code and the `[ERR_…]` code of its error line
# become the ErrorRecord.
Set-StrictMode -Version 3.0

# The names under which secrets are handed to the CLI in its own environment (never the
# PowerShell process's: they are set on the child's ProcessStartInfo only).
$script:SecretEnv = @{
    Credential          = 'PARTNER_TOKEN_PS_CLIENT_SECRET'
    RefreshToken        = 'PARTNER_TOKEN_PS_REFRESH_TOKEN'
    AccessToken         = 'PARTNER_TOKEN_PS_ACCESS_TOKEN'
    CertificatePassword = 'PARTNER_TOKEN_PS_CERTIFICATE_PASSWORD'
}

#region Finding and running the CLI

function Resolve-PartnerTokenCli {
    <# The command line that runs the CLI: @{ File; Prefix } (Prefix: the script for node). #>
    [CmdletBinding()]
    param()
    $node = if ($env:PARTNER_TOKEN_NODE) { $env:PARTNER_TOKEN_NODE } else {
        $cmd = Get-Command -Name node -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if ($cmd) { $cmd.Source } else { $null }
    }
    if ($env:PARTNER_TOKEN_CLI) {
        $cli = $env:PARTNER_TOKEN_CLI
        if (-not (Test-Path -LiteralPath $cli -PathType Leaf)) {
            throw [System.IO.FileNotFoundException]::new(
                "PARTNER_TOKEN_CLI names '$cli', which is not a file. Point it at partner-token (or its bin/partner-token.cjs), or remove it.")
        }
        if ($cli -match '\.(c|m)?(js|ts)$') {
            if (-not $node) {
                throw [System.IO.FileNotFoundException]::new(
                    "PARTNER_TOKEN_CLI is a script ('$cli'), but no node was found: set PARTNER_TOKEN_NODE or put node on PATH.")
            }
            return @{ File = $node; Prefix = @($cli) }
        }
        return @{ File = $cli; Prefix = @() }
    }
    # The npm package: <package>/powershell/PartnerToken/ (this folder) and <package>/bin/.
    $packaged = [System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'bin', 'partner-token.cjs')
    $packagedFound = Test-Path -LiteralPath $packaged -PathType Leaf
    if ($packagedFound -and $node -and (Test-Path -LiteralPath ([System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'dist')))) {
        return @{ File = $node; Prefix = @([System.IO.Path]::GetFullPath($packaged)) }
    }
    $onPath = Get-Command -Name partner-token -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($onPath) { return @{ File = $onPath.Source; Prefix = @() } }
    $why = if ($packagedFound -and -not $node) { " (found $packaged, but no node: set PARTNER_TOKEN_NODE or put node on PATH)" } else { '' }
    throw [System.IO.FileNotFoundException]::new(
        "The partner-token command line was not found. Looked for: 1. `$env:PARTNER_TOKEN_CLI (not set); " +
        "2. the package's own bin/partner-token.cjs next to this module, run with node from PATH or `$env:PARTNER_TOKEN_NODE$why; " +
        "3. partner-token on PATH. Install the npm package (npm install -g partner-token) or set PARTNER_TOKEN_CLI.")
}

function Get-PartnerTokenErrorCategory {
    param([int]$ExitCode, [string]$Code)
    if ($ExitCode -eq 130 -or $Code -eq 'ERR_CANCELLED') { return [System.Management.Automation.ErrorCategory]::OperationStopped }
    if ($ExitCode -eq 2 -or $Code -in 'ERR_PARAMETER_SET', 'ERR_INVALID_ARGUMENT', 'ERR_USAGE') { return [System.Management.Automation.ErrorCategory]::InvalidArgument }
    if ($Code -match '^ERR_(NETWORK|HTTP_|REDIS_UNAVAILABLE|KEYVAULT_UNAVAILABLE|STORE_UNAVAILABLE|DISCOVERY)') { return [System.Management.Automation.ErrorCategory]::ResourceUnavailable }
    if ($ExitCode -eq 4 -or $Code -match 'AADSTS|ERR_NO_SESSION|ERR_ACCESS_TOKEN_EXPIRED|ERR_DEVICE_CODE|ERR_AUTHORIZATION_DECLINED|ERR_BAD_VERIFICATION') { return [System.Management.Automation.ErrorCategory]::AuthenticationError }
    if ($Code -match 'NOT_FOUND') { return [System.Management.Automation.ErrorCategory]::ObjectNotFound }
    return [System.Management.Automation.ErrorCategory]::InvalidOperation
}

function New-PartnerTokenErrorRecord {
    <#
    An ErrorRecord from the CLI's error block on stderr: "partner-token: MESSAGE [CODE]", the
    server's ids, then the hint after a blank line. The CLI has already redacted it.
    #>
    param([int]$ExitCode, [string[]]$StderrLines, [string]$Command)
    $start = -1
    for ($i = $StderrLines.Count - 1; $i -ge 0; $i--) {
        if ($StderrLines[$i].StartsWith('partner-token: ')) { $start = $i; break }
    }
    $block = if ($start -ge 0) { $StderrLines[$start..($StderrLines.Count - 1)] } else { @($StderrLines | Select-Object -Last 5) }
    $text = ($block -join "`n")
    $usage = $text.IndexOf("`n`nUsage:")
    if ($usage -ge 0) { $text = $text.Substring(0, $usage) }
    $text = $text -replace '^partner-token: ', ''
    if ([string]::IsNullOrWhiteSpace($text)) { $text = "partner-token $Command exited with code $ExitCode." }
    $first = ($text -split "`n")[0]
    $code = if ($first -match '\[((?:ERR_|AADSTS)[A-Z0-9_]+)\]\s*$') { $Matches[1] }
    elseif ($text -match '\b(AADSTS\d+)\b') { "ERR_$($Matches[1])" }
    elseif ($ExitCode -eq 2) { 'ERR_USAGE' }
    elseif ($ExitCode -eq 130) { 'ERR_CANCELLED' }
    else { "ERR_EXIT_$ExitCode" }
    $hint = $null
    $parts = $text -split "`n`n", 2
    if ($parts.Count -eq 2) { $hint = $parts[1].Trim() }
    $category = Get-PartnerTokenErrorCategory -ExitCode $ExitCode -Code $code
    $exception = switch ($category) {
        'AuthenticationError' { [System.Security.Authentication.AuthenticationException]::new($text) }
        'InvalidArgument' { [System.ArgumentException]::new($text) }
        'OperationStopped' { [System.OperationCanceledException]::new($text) }
        'ResourceUnavailable' { [System.Net.Http.HttpRequestException]::new($text) }
        default { [System.InvalidOperationException]::new($text) }
    }
    $exception.Data['Code'] = $code
    $exception.Data['ExitCode'] = $ExitCode
    $exception.Data['Hint'] = $hint
    $record = [System.Management.Automation.ErrorRecord]::new($exception, $code, $category, $Command)
    if ($hint) {
        $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($text)
        $record.ErrorDetails.RecommendedAction = $hint
    }
    return $record
}

function Invoke-PartnerTokenCli {
    <#
    Runs the CLI with $Arguments, $Secrets (env name → SecureString or string) set in the child's
    environment only, stdin closed. Writes each stdout line to the pipeline as it comes; stderr
    lines go to the verbose stream (debug stream with -Debug; the host when -ShowSignIn and the
    line tells the person where to sign in). On an exit code not in $AllowExitCode, throws the
    CLI's error as a terminating error of $Cmdlet — after $ErrorFilter, when given, has had the
    chance to return a better one (a terminating error of $Cmdlet cannot be caught in its body).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)][string[]]$Arguments,
        [hashtable]$Secrets = @{},
        [int[]]$AllowExitCode = @(0),
        [switch]$ShowSignIn,
        [ref]$ExitCode,
        [scriptblock]$ErrorFilter
    )
    try { $cli = Resolve-PartnerTokenCli }
    catch {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                $_.Exception, 'ERR_CLI_NOT_FOUND', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $null))
    }
    $debugOn = $DebugPreference -ne 'SilentlyContinue'
    $psi = [System.Diagnostics.ProcessStartInfo]::new($cli.File)
    foreach ($a in @($cli.Prefix) + @($Arguments)) { $psi.ArgumentList.Add([string]$a) }
    if ($debugOn) { $psi.ArgumentList.Add('--debug') }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.StandardOutputEncoding = [System.Text.UTF8Encoding]::new($false)
    $psi.StandardErrorEncoding = [System.Text.UTF8Encoding]::new($false)
    # No colours or terminal tricks in text that becomes PowerShell records.
    $psi.Environment['NO_COLOR'] = '1'
    foreach ($name in $Secrets.Keys) {
        $value = $Secrets[$name]
        if ($value -is [securestring]) { $value = [System.Net.NetworkCredential]::new('', $value).Password }
        $psi.Environment[$name] = [string]$value
    }
    $command = ($Arguments | Where-Object { $_ -notlike '-*' } | Select-Object -First 2) -join ' '
    $stderr = [System.Collections.Generic.List[string]]::new()
    $process = $null
    try {
        $process = [System.Diagnostics.Process]::Start($psi)
        $process.StandardInput.Close()
        $outTask = $process.StandardOutput.ReadLineAsync()
        $errTask = $process.StandardError.ReadLineAsync()
        while ($null -ne $outTask -or $null -ne $errTask) {
            $pending = [System.Threading.Tasks.Task[]]@(@($outTask, $errTask) | Where-Object { $null -ne $_ })
            # A short wait so that Ctrl-C (StopProcessing) is noticed between waits.
            [void][System.Threading.Tasks.Task]::WaitAny($pending, 200)
            if ($null -ne $errTask -and $errTask.IsCompleted) {
                $line = $errTask.GetAwaiter().GetResult()
                if ($null -eq $line) { $errTask = $null } else {
                    $errTask = $process.StandardError.ReadLineAsync()
                    if ($stderr.Count -lt 2000) { $stderr.Add($line) }
                    if ($debugOn) { Write-Debug $line } else { Write-Verbose $line }
                    # Where to sign in (the device code, the address when no browser opens) is for
                    # the person at the console, as the original cmdlets showed it.
                    if ($ShowSignIn -and -not $debugOn -and -not $line.StartsWith('partner-token:') -and $line.Trim()) {
                        Write-Host $line
                    }
                }
            }
            if ($null -ne $outTask -and $outTask.IsCompleted) {
                $line = $outTask.GetAwaiter().GetResult()
                if ($null -eq $line) { $outTask = $null } else {
                    $outTask = $process.StandardOutput.ReadLineAsync()
                    $line
                }
            }
        }
        $process.WaitForExit()
        $code = $process.ExitCode
        if ($ExitCode) { $ExitCode.Value = $code }
        if ($code -notin $AllowExitCode) {
            $record = New-PartnerTokenErrorRecord -ExitCode $code -StderrLines $stderr.ToArray() -Command "partner-token $command"
            if ($ErrorFilter) {
                $better = & $ErrorFilter $record
                if ($better -is [System.Management.Automation.ErrorRecord]) { $record = $better }
            }
            $Cmdlet.ThrowTerminatingError($record)
        }
    }
    finally {
        if ($null -ne $process) {
            if (-not $process.HasExited) {
                # Stopped from PowerShell (Ctrl-C, -ErrorAction Stop downstream): end the CLI too.
                try { $process.Kill($true) } catch { Write-Debug "kill: $_" }
            }
            $process.Dispose()
        }
    }
}

function Invoke-PartnerTokenCliJson {
    <# Runs the CLI and returns its stdout parsed as one JSON document. #>
    param(
        [Parameter(Mandatory)][System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory)][string[]]$Arguments,
        [hashtable]$Secrets = @{},
        [int[]]$AllowExitCode = @(0),
        [switch]$ShowSignIn,
        [ref]$ExitCode,
        [scriptblock]$ErrorFilter
    )
    $splat = @{ Cmdlet = $Cmdlet; Arguments = $Arguments; Secrets = $Secrets; AllowExitCode = $AllowExitCode; ShowSignIn = $ShowSignIn }
    if ($ExitCode) { $splat.ExitCode = $ExitCode }
    if ($ErrorFilter) { $splat.ErrorFilter = $ErrorFilter }
    $lines = @(Invoke-PartnerTokenCli @splat)
    if ($lines.Count -eq 0) { return $null }
    # -NoEnumerate keeps a one-element array an array; dates stay strings (converted below).
    return (($lines -join "`n") | ConvertFrom-Json -NoEnumerate)
}

#endregion

#region Result objects

function ConvertTo-PartnerTokenDate {
    param($Value)
    if ($null -eq $Value -or ($Value -is [string] -and $Value -eq '')) { return $null }
    if ($Value -is [datetime]) { return [System.DateTimeOffset]::new($Value.ToUniversalTime()) }
    if ($Value -is [System.DateTimeOffset]) { return $Value.ToUniversalTime() }
    return [System.DateTimeOffset]::Parse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture,
        [System.Globalization.DateTimeStyles]::AssumeUniversal).ToUniversalTime()
}

function Get-JsonProperty {
    param($Object, [string]$Name)
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($null -eq $p) { return $null }
    return $p.Value
}

function ConvertTo-PartnerTokenAuthResult {
    <# The CLI's AuthResult JSON (SPEC §4) as PartnerToken.AuthResult with .NET types. #>
    param([Parameter(Mandatory)]$Json)
    $account = $null
    $a = Get-JsonProperty $Json 'account'
    if ($null -ne $a) {
        $h = Get-JsonProperty $a 'homeAccountId'
        $homeAccountId = if ($null -ne $h) {
            [pscustomobject]@{
                PSTypeName = 'PartnerToken.AccountId'
                Identifier = [string](Get-JsonProperty $h 'identifier')
                ObjectId   = [string](Get-JsonProperty $h 'objectId')
                TenantId   = [string](Get-JsonProperty $h 'tenantId')
            }
        }
        $account = [pscustomobject]@{
            PSTypeName    = 'PartnerToken.Account'
            Username      = [string](Get-JsonProperty $a 'username')
            Environment   = [string](Get-JsonProperty $a 'environment')
            HomeAccountId = $homeAccountId
        }
    }
    $correlation = Get-JsonProperty $Json 'correlationId'
    $guid = [guid]::Empty
    $correlationId = if ($correlation -and [guid]::TryParse([string]$correlation, [ref]$guid)) { $guid } else { $null }
    [pscustomobject]@{
        PSTypeName              = 'PartnerToken.AuthResult'
        AccessToken             = [string](Get-JsonProperty $Json 'accessToken')
        RefreshToken            = (Get-JsonProperty $Json 'refreshToken')
        IdToken                 = (Get-JsonProperty $Json 'idToken')
        TokenType               = [string](Get-JsonProperty $Json 'tokenType')
        ExpiresOn               = (ConvertTo-PartnerTokenDate (Get-JsonProperty $Json 'expiresOn'))
        ExtendedExpiresOn       = (ConvertTo-PartnerTokenDate (Get-JsonProperty $Json 'extendedExpiresOn'))
        TenantId                = (Get-JsonProperty $Json 'tenantId')
        UniqueId                = (Get-JsonProperty $Json 'uniqueId')
        Account                 = $account
        Scopes                  = [string[]]@(Get-JsonProperty $Json 'scopes' | Where-Object { $null -ne $_ })
        CorrelationId           = $correlationId
        IsExtendedLifeTimeToken = [bool](Get-JsonProperty $Json 'isExtendedLifeTimeToken')
    }
}

#endregion

#region Parameters shared by the cmdlets

function Add-EnvironmentArgument {
    param([System.Collections.Generic.List[string]]$Arguments, [string]$Environment)
    if ($Environment) { $Arguments.Add('--environment'); $Arguments.Add($Environment) }
}

function Get-StoreCertificate {
    <#
    The certificate of $Thumbprint in the .NET store My (CurrentUser, then LocalMachine), as the
    original cmdlets looked it up; $null when neither has it with its private key.
    #>
    param([string]$Thumbprint)
    $normal = ($Thumbprint -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
    foreach ($location in 'CurrentUser', 'LocalMachine') {
        $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', $location)
        try {
            $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly)
        }
        catch {
            Write-Debug "certificate store My/$location could not be opened: $($_.Exception.Message)"
            $store.Dispose()
            continue
        }
        try {
            $found = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $normal, $false)
            foreach ($c in $found) { if ($c.HasPrivateKey) { return $c } }
        }
        finally { $store.Dispose() }
    }
    return $null
}

function Test-CliReadsCertificateStore {
    <# Whether the CLI finds a certificate of .NET's store My by itself: on Linux, where that store is a folder of files. #>
    return [bool]$IsLinux
}

function New-StoreOnlyCertificateError {
    <#
    Connect-PartnerCenter with a certificate only in a store the CLI cannot read (Windows'
    CryptoAPI, macOS' keychain): a session looks its certificate up again at each renewal, maybe
    from another process, so it cannot be lent for one call as New-PartnerAccessToken does.
    #>
    param([string]$Thumbprint, [System.Management.Automation.ErrorRecord]$Cause)
    $text = "The certificate $Thumbprint is in the certificate store My, which partner-token cannot read on this system, and a session looks its certificate up again at each renewal."
    $hint = "Put a copy with its private key in partner-token's certificate folder (PARTNER_TOKEN_CERTIFICATE_DIR, else $(if ($IsWindows) { '%APPDATA%\partner-token\certificates' } else { '~/.config/partner-token/certificates' })): PEM with the key, or a PFX without a password, readable only by you. Or use New-PartnerAccessToken -CertificateThumbprint, which lends the store's certificate to one call."
    $exception = [System.InvalidOperationException]::new("$text`n`n$hint", $Cause.Exception)
    $exception.Data['Code'] = 'ERR_CERTIFICATE_NOT_FOUND'
    $exception.Data['ExitCode'] = $Cause.Exception.Data['ExitCode']
    $exception.Data['Hint'] = $hint
    $record = [System.Management.Automation.ErrorRecord]::new($exception, 'ERR_CERTIFICATE_NOT_FOUND',
        [System.Management.Automation.ErrorCategory]::ObjectNotFound, $Thumbprint)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new("$text`n`n$hint")
    $record.ErrorDetails.RecommendedAction = $hint
    return $record
}

function Add-CertificateArguments {
    <#
    -CertificateThumbprint: from the .NET store when it is there (exported to a 0600 PFX in a
    private temporary folder, with a random password handed over in the child's environment;
    the caller removes it with Remove-Item once the CLI has finished), else the CLI's own
    certificate folder. Returns the temporary folder or $null.
    #>
    param([System.Collections.Generic.List[string]]$Arguments, [hashtable]$Secrets, [string]$Thumbprint)
    $cert = Get-StoreCertificate -Thumbprint $Thumbprint
    if ($null -eq $cert) {
        Write-Verbose "certificate $Thumbprint is not in the My store (CurrentUser, LocalMachine): the CLI looks in its certificate folder."
        $Arguments.Add('--certificate-thumbprint'); $Arguments.Add($Thumbprint)
        return $null
    }
    $bytes = [byte[]]::new(24)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
    $password = [Convert]::ToBase64String($bytes)
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ("partner-token-ps-" + [guid]::NewGuid().ToString('n'))
    if ($IsWindows) {
        [void](New-Item -ItemType Directory -Path $dir)
    }
    else {
        [void][System.IO.Directory]::CreateDirectory($dir, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    }
    $path = Join-Path $dir 'certificate.pfx'
    try {
        $pfx = $cert.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pkcs12, $password)
    }
    catch {
        Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction Ignore
        throw [System.InvalidOperationException]::new(
            "The certificate $Thumbprint is in the certificate store, but its private key cannot be exported for partner-token: import it as exportable, or put its PEM or PFX file in the certificate folder (PARTNER_TOKEN_CERTIFICATE_DIR).")
    }
    $options = [System.IO.FileStreamOptions]::new()
    $options.Mode = [System.IO.FileMode]::CreateNew
    $options.Access = [System.IO.FileAccess]::Write
    if (-not $IsWindows) { $options.UnixCreateMode = [System.IO.UnixFileMode]'UserRead, UserWrite' }
    $stream = [System.IO.FileStream]::new($path, $options)
    try { $stream.Write($pfx, 0, $pfx.Length) } finally { $stream.Dispose() }
    $Arguments.Add('--certificate-path'); $Arguments.Add($path)
    $Arguments.Add('--certificate-password'); $Arguments.Add("env:$($script:SecretEnv.CertificatePassword)")
    $Secrets[$script:SecretEnv.CertificatePassword] = $password
    return $dir
}

function Add-CredentialArguments {
    param([System.Collections.Generic.List[string]]$Arguments, [hashtable]$Secrets, [pscredential]$Credential)
    $Arguments.Add('--credential'); $Arguments.Add("env:$($script:SecretEnv.Credential)")
    if ($Credential.UserName) { $Arguments.Add('--credential-user'); $Arguments.Add($Credential.UserName) }
    $Secrets[$script:SecretEnv.Credential] = $Credential.Password
}

function Add-TokenArgument {
    param([System.Collections.Generic.List[string]]$Arguments, [hashtable]$Secrets, [string]$Kind, $Value)
    $flag = if ($Kind -eq 'RefreshToken') { '--refresh-token' } else { '--access-token' }
    $Arguments.Add($flag); $Arguments.Add("env:$($script:SecretEnv[$Kind])")
    $Secrets[$script:SecretEnv[$Kind]] = $Value
}

function Get-TokenText {
    <# A token given as a string or a SecureString; an empty one is a clear error. #>
    param($Value, [string]$Name)
    $text = if ($Value -is [securestring]) { [System.Net.NetworkCredential]::new('', $Value).Password } else { [string]$Value }
    if ([string]::IsNullOrWhiteSpace($text)) {
        throw [System.ArgumentException]::new("-$Name is empty: give the $Name itself (for example `$token.$Name).", $Name)
    }
    return $text
}

function Invoke-NewAccessToken {
    <# The body of New-PartnerAccessToken and New-SecMgmtAccessToken. #>
    param([System.Management.Automation.PSCmdlet]$Cmdlet, [hashtable]$Bound)
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.Add('new')
    $secrets = @{}
    $tempDir = $null
    try {
        if ($Bound.ContainsKey('ApplicationId')) { $arguments.Add('--application-id'); $arguments.Add($Bound.ApplicationId) }
        if ($Bound.ContainsKey('Scopes')) { $arguments.Add('--scopes'); foreach ($s in $Bound.Scopes) { $arguments.Add($s) } }
        if ($Bound.ContainsKey('Resource')) { $arguments.Add('--resource'); $arguments.Add($Bound.Resource) }
        if ($Bound.ContainsKey('Tenant')) { $arguments.Add('--tenant'); $arguments.Add($Bound.Tenant) }
        if ($Bound.ContainsKey('Environment')) { Add-EnvironmentArgument $arguments $Bound.Environment }
        $moduleByBrowser = $Cmdlet.ParameterSetName -eq 'ByModule' -and $Bound.ContainsKey('UseAuthorizationCode') -and $Bound.UseAuthorizationCode
        if ($moduleByBrowser) {
            # The seed's ByModule set allows -UseAuthorizationCode, which the CLI's --module does
            # not take: the same sign-in is its User set with the module's public app and scope
            # (ExchangeOnline: Exchange Online PowerShell's app). The browser flow comes first in
            # the cmdlet's dispatch order, so a -RefreshToken given with it is not used.
            $arguments.Add('--application-id'); $arguments.Add('a0c73c16-a7e3-4564-9a95-2bdf47383716')
            $arguments.Add('--scopes'); $arguments.Add('https://outlook.office365.com/.default')
            [void]$Bound.Remove('RefreshToken')
        }
        elseif ($Bound.ContainsKey('Module')) { $arguments.Add('--module'); $arguments.Add($Bound.Module) }
        if ($Bound.ContainsKey('ServicePrincipal') -and $Bound.ServicePrincipal) { $arguments.Add('--service-principal') }
        if ($Bound.ContainsKey('UseAuthorizationCode') -and $Bound.UseAuthorizationCode) { $arguments.Add('--use-authorization-code') }
        if ($Bound.ContainsKey('UseDeviceAuthentication') -and $Bound.UseDeviceAuthentication) { $arguments.Add('--use-device-authentication') }
        if ($Bound.ContainsKey('Consent') -and $Bound.Consent) { $arguments.Add('--consent') }
        if ($Bound.ContainsKey('Credential') -and $Bound.Credential) { Add-CredentialArguments $arguments $secrets $Bound.Credential }
        if ($Bound.ContainsKey('RefreshToken')) { Add-TokenArgument $arguments $secrets 'RefreshToken' (Get-TokenText $Bound.RefreshToken 'RefreshToken') }
        if ($Bound.ContainsKey('AccessToken')) { Add-TokenArgument $arguments $secrets 'AccessToken' (Get-TokenText $Bound.AccessToken 'AccessToken') }
        if ($Bound.ContainsKey('CertificateThumbprint')) { $tempDir = Add-CertificateArguments $arguments $secrets $Bound.CertificateThumbprint }
        $interactive = ($Bound.ContainsKey('UseAuthorizationCode') -and $Bound.UseAuthorizationCode) -or
            ($Bound.ContainsKey('UseDeviceAuthentication') -and $Bound.UseDeviceAuthentication) -or
            $Cmdlet.ParameterSetName -eq 'User' -or
            ($Cmdlet.ParameterSetName -eq 'ByModule' -and -not $Bound.ContainsKey('RefreshToken'))
        $json = Invoke-PartnerTokenCliJson -Cmdlet $Cmdlet -Arguments $arguments.ToArray() -Secrets $secrets -ShowSignIn:$interactive
        ConvertTo-PartnerTokenAuthResult -Json $json
    }
    finally {
        if ($tempDir) { Remove-Item -LiteralPath $tempDir -Recurse -Force -ErrorAction Ignore }
    }
}

#endregion

#region Argument completers

# Completers are classes: an [ArgumentCompleter] attribute takes a type or a script block, and a
# class keeps the lists next to the parameters that use them.
class PartnerTokenEnvironmentCompleter : System.Management.Automation.IArgumentCompleter {
    [System.Collections.Generic.IEnumerable[System.Management.Automation.CompletionResult]] CompleteArgument(
        [string]$CommandName, [string]$ParameterName, [string]$WordToComplete,
        [System.Management.Automation.Language.CommandAst]$CommandAst, [System.Collections.IDictionary]$FakeBoundParameters) {
        $out = [System.Collections.Generic.List[System.Management.Automation.CompletionResult]]::new()
        foreach ($v in 'AzureCloud', 'AzureChinaCloud', 'AzureGermanCloud', 'AzurePPE', 'AzureUSGovernment', 'GlobalCloud', 'ChinaCloud', 'GermanCloud', 'PPE', 'USGovernment', 'Emulator') {
            if ($v -like "$($WordToComplete.Trim("'", '"'))*") { $out.Add([System.Management.Automation.CompletionResult]::new($v, $v, 'ParameterValue', $v)) }
        }
        return $out
    }
}

class PartnerTokenScopeCompleter : System.Management.Automation.IArgumentCompleter {
    [System.Collections.Generic.IEnumerable[System.Management.Automation.CompletionResult]] CompleteArgument(
        [string]$CommandName, [string]$ParameterName, [string]$WordToComplete,
        [System.Management.Automation.Language.CommandAst]$CommandAst, [System.Collections.IDictionary]$FakeBoundParameters) {
        $out = [System.Collections.Generic.List[System.Management.Automation.CompletionResult]]::new()
        $scopes = @(
            'https://api.partnercenter.microsoft.com/user_impersonation', 'https://api.partnercenter.microsoft.com/.default',
            'https://graph.microsoft.com/.default', 'https://outlook.office365.com/.default',
            'https://management.azure.com/.default', 'https://vault.azure.net/.default', 'openid', 'profile', 'offline_access')
        foreach ($v in $scopes) {
            if ($v -like "$($WordToComplete.Trim("'", '"'))*") { $out.Add([System.Management.Automation.CompletionResult]::new("'$v'", $v, 'ParameterValue', $v)) }
        }
        return $out
    }
}

class PartnerTokenProfileCompleter : System.Management.Automation.IArgumentCompleter {
    [System.Collections.Generic.IEnumerable[System.Management.Automation.CompletionResult]] CompleteArgument(
        [string]$CommandName, [string]$ParameterName, [string]$WordToComplete,
        [System.Management.Automation.Language.CommandAst]$CommandAst, [System.Collections.IDictionary]$FakeBoundParameters) {
        $out = [System.Collections.Generic.List[System.Management.Automation.CompletionResult]]::new()
        # The CLI's cache folder (docs/cli.md "The cache"): one {profile}.json per session.
        $userHome = [Environment]::GetFolderPath('UserProfile')
        $dir = if ($env:PARTNER_TOKEN_CACHE_DIR) { $env:PARTNER_TOKEN_CACHE_DIR }
        elseif ([OperatingSystem]::IsWindows()) { Join-Path $env:LOCALAPPDATA 'partner-token' }
        elseif ([OperatingSystem]::IsMacOS()) { Join-Path $userHome 'Library/Application Support/partner-token' }
        elseif ($env:XDG_STATE_HOME) { Join-Path $env:XDG_STATE_HOME 'partner-token' }
        else { Join-Path $userHome '.local/state/partner-token' }
        $profiles = Join-Path $dir 'profiles'
        if (Test-Path -LiteralPath $profiles) {
            foreach ($f in Get-ChildItem -LiteralPath $profiles -Filter '*.json' -File) {
                if ($f.Name -like '*.key.json') { continue }
                $name = $f.BaseName
                if ($name -like "$($WordToComplete.Trim("'", '"'))*") { $out.Add([System.Management.Automation.CompletionResult]::new($name, $name, 'ParameterValue', $name)) }
            }
        }
        return $out
    }
}

#endregion

#region Cmdlets

function New-PartnerAccessToken {
    <#
    .SYNOPSIS
    Acquires an access token (and a refresh token) from Microsoft Entra ID.
    .DESCRIPTION
    The parameter sets of the PartnerCenter module's New-PartnerAccessToken (3.x), and the 1.5.x
    spellings (-Resource, -TenantId, -Consent). The result always carries the refresh token when
    Entra ID issued one. Runs `partner-token new`; secrets reach it in its environment.
    .EXAMPLE
    $credential = [pscredential]::new($appId, $appSecret)
    $token = New-PartnerAccessToken -ApplicationId $appId -Credential $credential -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Tenant $tenantId -UseAuthorizationCode
    $token.RefreshToken
    #>
    [CmdletBinding(DefaultParameterSetName = 'User')]
    [OutputType('PartnerToken.AuthResult')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [string]$AccessToken,

        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(Mandatory, ParameterSetName = 'User')]
        [Parameter(Mandatory, ParameterSetName = 'UserResource')]
        [Parameter(ParameterSetName = 'ServicePrincipalResource')]
        [Alias('ClientId')]
        [ValidateNotNullOrEmpty()]
        [string]$ApplicationId,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [ValidateNotNullOrEmpty()]
        [string]$CertificateThumbprint,

        [Parameter(ParameterSetName = 'AccessToken')]
        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalResource')]
        [pscredential]$Credential,

        [Parameter()]
        [Alias('EnvironmentName')]
        [ArgumentCompleter([PartnerTokenEnvironmentCompleter])]
        [ValidateNotNullOrEmpty()]
        [string]$Environment,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ByModule')]
        [Alias('ModuleName')]
        [ValidateSet('ExchangeOnline')]
        [string]$Module,

        [Parameter(Mandatory, ParameterSetName = 'RefreshToken')]
        [Parameter(ParameterSetName = 'ByModule')]
        [Parameter(ParameterSetName = 'UserResource')]
        [Parameter(ParameterSetName = 'ServicePrincipalResource')]
        [string]$RefreshToken,

        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [Parameter(Mandatory, ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(Mandatory, ParameterSetName = 'User')]
        [ArgumentCompleter([PartnerTokenScopeCompleter])]
        [ValidateNotNullOrEmpty()]
        [string[]]$Scopes,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(ParameterSetName = 'ServicePrincipal')]
        [Parameter(ParameterSetName = 'ServicePrincipalCertificate')]
        [switch]$ServicePrincipal,

        [Parameter(ParameterSetName = 'AccessToken')]
        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(ParameterSetName = 'User')]
        [Parameter(ParameterSetName = 'ByModule')]
        [Parameter(ParameterSetName = 'UserResource')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalResource')]
        [Alias('Domain', 'TenantId')]
        [ValidateNotNullOrEmpty()]
        [string]$Tenant,

        [Parameter(ParameterSetName = 'ServicePrincipal')]
        [Parameter(ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(ParameterSetName = 'User')]
        [Parameter(ParameterSetName = 'ByModule')]
        [Alias('AuthCode')]
        [switch]$UseAuthorizationCode,

        [Parameter(ParameterSetName = 'User')]
        [Alias('DeviceCode', 'DeviceAuth', 'Device')]
        [switch]$UseDeviceAuthentication,

        # PartnerCenter 1.5.x: the Azure AD v1 resource, asked for as the scope RESOURCE/.default.
        [Parameter(Mandatory, ParameterSetName = 'UserResource')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalResource')]
        [ValidateNotNullOrEmpty()]
        [string]$Resource,

        # PartnerCenter 1.5.x: accepted and ignored (the CLI says so on the verbose stream).
        [Parameter(ParameterSetName = 'UserResource')]
        [Parameter(ParameterSetName = 'ServicePrincipalResource')]
        [switch]$Consent
    )
    $bound = @{} + $PSBoundParameters
    if ($PSCmdlet.ParameterSetName -eq 'ServicePrincipalResource') {
        # 1.5.x: the application id was optional here, the credential's user name standing for it.
        $bound.ServicePrincipal = $true
        if (-not $bound.ContainsKey('ApplicationId')) { $bound.ApplicationId = $Credential.UserName }
    }
    Invoke-NewAccessToken -Cmdlet $PSCmdlet -Bound $bound
}

function New-SecMgmtAccessToken {
    <#
    .SYNOPSIS
    Acquires an access token from Microsoft Entra ID (the SecMgmt module's cmdlet).
    .DESCRIPTION
    The parameter sets of New-SecMgmtAccessToken: RefreshToken, ServicePrincipal,
    ServicePrincipalCertificate, User. Runs `partner-token new`.
    .EXAMPLE
    New-SecMgmtAccessToken -ApplicationId $appId -Credential $credential -RefreshToken $refreshToken -Scopes 'https://graph.microsoft.com/.default' -ServicePrincipal -Tenant $customerId
    #>
    [CmdletBinding(DefaultParameterSetName = 'User')]
    [OutputType('PartnerToken.AuthResult')]
    param(
        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(Mandatory, ParameterSetName = 'User')]
        [Alias('ClientId')]
        [ValidateNotNullOrEmpty()]
        [string]$ApplicationId,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [ValidateNotNullOrEmpty()]
        [string]$CertificateThumbprint,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [pscredential]$Credential,

        [Parameter()]
        [Alias('EnvironmentName')]
        [ArgumentCompleter([PartnerTokenEnvironmentCompleter])]
        [ValidateNotNullOrEmpty()]
        [string]$Environment,

        [Parameter(Mandatory, ParameterSetName = 'RefreshToken')]
        [string]$RefreshToken,

        [Parameter(Mandatory)]
        [ArgumentCompleter([PartnerTokenScopeCompleter])]
        [ValidateNotNullOrEmpty()]
        [string[]]$Scopes,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(ParameterSetName = 'ServicePrincipalCertificate')]
        [switch]$ServicePrincipal,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(ParameterSetName = 'User')]
        [Alias('Domain', 'TenantId')]
        [ValidateNotNullOrEmpty()]
        [string]$Tenant,

        [Parameter(ParameterSetName = 'ServicePrincipal')]
        [Parameter(ParameterSetName = 'ServicePrincipalCertificate')]
        [Parameter(ParameterSetName = 'User')]
        [Alias('AuthCode')]
        [switch]$UseAuthorizationCode,

        [Parameter(ParameterSetName = 'User')]
        [Alias('DeviceCode', 'DeviceAuth', 'Device')]
        [switch]$UseDeviceAuthentication
    )
    Invoke-NewAccessToken -Cmdlet $PSCmdlet -Bound (@{} + $PSBoundParameters)
}

function Connect-PartnerCenter {
    <#
    .SYNOPSIS
    Signs in once and keeps the session (partner-token connect); later cmdlets use it silently.
    .DESCRIPTION
    Returns the session's access token for Partner Center as PartnerToken.AuthResult, with the
    session's Profile. The refresh token stays in the encrypted session.
    .EXAMPLE
    Connect-PartnerCenter -ApplicationId $appId -Credential $credential -RefreshToken $token.RefreshToken
    #>
    [CmdletBinding(DefaultParameterSetName = 'User')]
    [OutputType('PartnerToken.AuthResult')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'AccessToken')]
        [string]$AccessToken,

        [Parameter(ParameterSetName = 'AccessToken')]
        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [Alias('ClientId')]
        [ValidateNotNullOrEmpty()]
        [string]$ApplicationId,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipalCertificate')]
        [ValidateNotNullOrEmpty()]
        [string]$CertificateThumbprint,

        [Parameter(ParameterSetName = 'RefreshToken')]
        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [pscredential]$Credential,

        [Parameter()]
        [Alias('EnvironmentName')]
        [ArgumentCompleter([PartnerTokenEnvironmentCompleter])]
        [ValidateNotNullOrEmpty()]
        [string]$Environment,

        [Parameter(Mandatory, ParameterSetName = 'RefreshToken')]
        [string]$RefreshToken,

        [Parameter(Mandatory, ParameterSetName = 'ServicePrincipal')]
        [Parameter(ParameterSetName = 'ServicePrincipalCertificate')]
        [switch]$ServicePrincipal,

        [Parameter()]
        [Alias('Domain', 'TenantId')]
        [ValidateNotNullOrEmpty()]
        [string]$Tenant,

        [Parameter(ParameterSetName = 'User')]
        [Alias('DeviceCode', 'DeviceAuth', 'Device')]
        [switch]$UseDeviceAuthentication,

        [Parameter()]
        [ArgumentCompleter([PartnerTokenScopeCompleter])]
        [string[]]$Scopes,

        [Parameter()]
        [ArgumentCompleter([PartnerTokenProfileCompleter])]
        [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
        [string]$Profile
    )
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.Add('connect')
    $secrets = @{}
    if ($ApplicationId) { $arguments.Add('--application-id'); $arguments.Add($ApplicationId) }
    if ($Tenant) { $arguments.Add('--tenant'); $arguments.Add($Tenant) }
    if ($Environment) { Add-EnvironmentArgument $arguments $Environment }
    if ($Scopes) { $arguments.Add('--scopes'); foreach ($s in $Scopes) { $arguments.Add($s) } }
    if ($ServicePrincipal) { $arguments.Add('--service-principal') }
    if ($UseDeviceAuthentication) { $arguments.Add('--use-device-authentication') }
    if ($Profile) { $arguments.Add('--profile'); $arguments.Add($Profile) }
    if ($Credential) { Add-CredentialArguments $arguments $secrets $Credential }
    if ($PSBoundParameters.ContainsKey('RefreshToken')) { Add-TokenArgument $arguments $secrets 'RefreshToken' (Get-TokenText $RefreshToken 'RefreshToken') }
    if ($PSBoundParameters.ContainsKey('AccessToken')) { Add-TokenArgument $arguments $secrets 'AccessToken' (Get-TokenText $AccessToken 'AccessToken') }
    if ($CertificateThumbprint) {
        # The session keeps the thumbprint and the CLI looks the certificate up at each renewal,
        # so it is not lent through a temporary file here: the CLI reads its certificate folder,
        # then on Linux .NET's store My of CurrentUser (where X509Store.Add put it).
        $arguments.Add('--certificate-thumbprint'); $arguments.Add($CertificateThumbprint)
    }
    $storeOnly = {
        param($record)
        if ($CertificateThumbprint -and $record.FullyQualifiedErrorId -eq 'ERR_CERTIFICATE_NOT_FOUND' -and
            -not (Test-CliReadsCertificateStore) -and (Get-StoreCertificate -Thumbprint $CertificateThumbprint)) {
            New-StoreOnlyCertificateError -Thumbprint $CertificateThumbprint -Cause $record
        }
    }
    $session = Invoke-PartnerTokenCliJson -Cmdlet $PSCmdlet -Arguments $arguments.ToArray() -Secrets $secrets -ShowSignIn:($PSCmdlet.ParameterSetName -eq 'User') -ErrorFilter $storeOnly
    $tokenArgs = @('token')
    $profileName = [string](Get-JsonProperty $session 'profile')
    if ($profileName) { $tokenArgs += @('--profile', $profileName) }
    if ($Scopes) { $tokenArgs += @('--scopes') + $Scopes }
    $result = ConvertTo-PartnerTokenAuthResult -Json (Invoke-PartnerTokenCliJson -Cmdlet $PSCmdlet -Arguments $tokenArgs)
    $result | Add-Member -NotePropertyName Profile -NotePropertyValue $profileName -PassThru
}

function Disconnect-PartnerCenter {
    <#
    .SYNOPSIS
    Forgets a session (partner-token disconnect): its cached tokens, refresh token and key.
    .EXAMPLE
    Disconnect-PartnerCenter -Profile ci
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Low')]
    param(
        [Parameter()]
        [ArgumentCompleter([PartnerTokenProfileCompleter])]
        [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
        [string]$Profile
    )
    $arguments = @('disconnect')
    if ($Profile) { $arguments += @('--profile', $Profile) }
    $name = if ($Profile) { $Profile } elseif ($env:PARTNER_TOKEN_PROFILE) { $env:PARTNER_TOKEN_PROFILE } else { 'default' }
    if ($PSCmdlet.ShouldProcess("profile '$name'", 'Disconnect')) {
        Invoke-PartnerTokenCli -Cmdlet $PSCmdlet -Arguments $arguments | ForEach-Object { Write-Verbose $_ }
    }
}

function Get-PartnerAccessToken {
    <#
    .SYNOPSIS
    An access token from the session (partner-token token), renewed when needed.
    .EXAMPLE
    (Get-PartnerAccessToken -Scopes 'https://graph.microsoft.com/.default' -Tenant $customer).AccessToken
    #>
    [CmdletBinding()]
    [OutputType('PartnerToken.AuthResult')]
    param(
        [Parameter(Position = 0)]
        [ArgumentCompleter([PartnerTokenScopeCompleter])]
        [string[]]$Scopes,

        [Parameter()]
        [Alias('Domain', 'TenantId')]
        [string]$Tenant,

        [Parameter()]
        [ValidateRange(0, 86400)]
        [int]$MinValidity,

        [Parameter()]
        [switch]$ForceRefresh,

        [Parameter()]
        [ArgumentCompleter([PartnerTokenProfileCompleter])]
        [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
        [string]$Profile
    )
    $arguments = @('token')
    if ($Scopes) { $arguments += @('--scopes') + $Scopes }
    if ($Tenant) { $arguments += @('--tenant', $Tenant) }
    if ($PSBoundParameters.ContainsKey('MinValidity')) { $arguments += @('--min-validity', [string]$MinValidity) }
    if ($ForceRefresh) { $arguments += '--force-refresh' }
    if ($Profile) { $arguments += @('--profile', $Profile) }
    ConvertTo-PartnerTokenAuthResult -Json (Invoke-PartnerTokenCliJson -Cmdlet $PSCmdlet -Arguments $arguments)
}

function Get-PartnerSession {
    <#
    .SYNOPSIS
    The session's health (partner-token status), with a warning when its refresh token nears
    the end of its 90-day window, when the app's secret or certificate the session uses nears its
    expiry (read through Graph, at most -TimeoutSeconds; -Offline skips it), or a sign-in is needed.
    .EXAMPLE
    Get-PartnerSession -WarnDays 30
    .EXAMPLE
    (Get-PartnerSession -Profile job).AppCredential
    #>
    [CmdletBinding()]
    [OutputType('PartnerToken.Session')]
    param(
        [Parameter()]
        [ArgumentCompleter([PartnerTokenProfileCompleter])]
        [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
        [string]$Profile,

        [Parameter()]
        [ValidateRange(0, 365)]
        [int]$WarnDays,

        # No network: the app credential's expiry is not read through Graph.
        [Parameter()]
        [switch]$Offline,

        [Parameter()]
        [ValidateRange(1, 86400)]
        [int]$TimeoutSeconds
    )
    $arguments = @('status', '--output', 'json')
    if ($Profile) { $arguments += @('--profile', $Profile) }
    if ($PSBoundParameters.ContainsKey('WarnDays')) { $arguments += @('--warn-days', [string]$WarnDays) }
    if ($Offline) { $arguments += '--offline' }
    if ($PSBoundParameters.ContainsKey('TimeoutSeconds')) { $arguments += @('--timeout', [string]$TimeoutSeconds) }
    $exit = 0
    $json = Invoke-PartnerTokenCliJson -Cmdlet $PSCmdlet -Arguments $arguments -AllowExitCode 0, 3, 4 -ExitCode ([ref]$exit)
    if ($null -eq $json) {
        $PSCmdlet.ThrowTerminatingError((New-PartnerTokenErrorRecord -ExitCode $exit -StderrLines @() -Command 'partner-token status'))
    }
    $rt = Get-JsonProperty $json 'refreshToken'
    $environmentInfo = Get-JsonProperty $json 'environment'
    $tokens = @(Get-JsonProperty $json 'tokens' | Where-Object { $null -ne $_ } | ForEach-Object {
            [pscustomobject]@{
                PSTypeName = 'PartnerToken.CachedToken'
                Scopes     = [string[]]@(Get-JsonProperty $_ 'scopes')
                Tenant     = [string](Get-JsonProperty $_ 'tenant')
                ExpiresOn  = ConvertTo-PartnerTokenDate (Get-JsonProperty $_ 'expiresOn')
                Valid      = [bool](Get-JsonProperty $_ 'valid')
            }
        })
    $daysLeft = Get-JsonProperty $rt 'daysLeft'
    $credentialInfo = Get-JsonProperty $json 'appCredential'
    $appCredential = $null
    if ($null -ne $credentialInfo) {
        $appCredential = [pscustomobject]@{
            PSTypeName = 'PartnerToken.AppCredential'
            Kind       = [string](Get-JsonProperty $credentialInfo 'kind')
            Hint       = [string](Get-JsonProperty $credentialInfo 'hint')
            Found      = [bool](Get-JsonProperty $credentialInfo 'found')
            ExpiresOn  = ConvertTo-PartnerTokenDate (Get-JsonProperty $credentialInfo 'endDateTime')
            DaysLeft   = Get-JsonProperty $credentialInfo 'daysLeft'
            Expiring   = [bool](Get-JsonProperty $credentialInfo 'expiring')
        }
    }
    $session = [pscustomobject]@{
        PSTypeName                = 'PartnerToken.Session'
        Profile                   = [string](Get-JsonProperty $json 'profile')
        State                     = [string](Get-JsonProperty $json 'state')
        Kind                      = [string](Get-JsonProperty $json 'kind')
        Account                   = Get-JsonProperty $json 'account'
        Tenant                    = Get-JsonProperty $json 'tenant'
        TenantId                  = Get-JsonProperty $json 'tenantId'
        Environment               = [string](Get-JsonProperty $environmentInfo 'name')
        AuthorityHost             = Get-JsonProperty $environmentInfo 'authorityHost'
        PartnerCenterEndpoint     = Get-JsonProperty $environmentInfo 'partnerCenterEndpoint'
        ApplicationId             = Get-JsonProperty $json 'applicationId'
        ConnectedAt               = ConvertTo-PartnerTokenDate (Get-JsonProperty $json 'connectedAt')
        RefreshTokenLocation      = Get-JsonProperty $rt 'location'
        RefreshTokenLastRotation  = ConvertTo-PartnerTokenDate (Get-JsonProperty $rt 'lastRotation')
        RefreshTokenDaysLeft      = $daysLeft
        RefreshTokenExpiresOn     = ConvertTo-PartnerTokenDate (Get-JsonProperty $rt 'expiresOn')
        Tokens                    = $tokens
        AppCredential             = $appCredential
        SignInRequired            = Get-JsonProperty $json 'signInRequired'
        Reason                    = Get-JsonProperty $json 'reason'
        ExitCode                  = $exit
    }
    if ($exit -eq 3) {
        if ([string]$session.Reason -like 'the refresh token*') {
            Write-Warning "The refresh token of profile '$($session.Profile)' expires in $daysLeft day(s) ($($session.RefreshTokenExpiresOn.ToString('u'))): get any token (Get-PartnerAccessToken) to renew it, or Connect-PartnerCenter again."
        }
        if ($appCredential -and $appCredential.Expiring) {
            $what = if ($appCredential.Kind -eq 'secret') { 'client secret' } else { 'certificate' }
            Write-Warning "The app's $what that profile '$($session.Profile)' uses expires in $($appCredential.DaysLeft) day(s) ($($appCredential.ExpiresOn.ToString('u'))): rotate it with partner-token app rotate-$($appCredential.Kind) --application-id $($session.ApplicationId)."
        }
    }
    elseif ($exit -eq 4) {
        Write-Warning "Profile '$($session.Profile)' needs a new sign-in ($($session.Reason)): run Connect-PartnerCenter."
    }
    $session
}

function Get-PartnerCustomer {
    <#
    .SYNOPSIS
    Every customer of the partner (partner-token customers list), one object each.
    .EXAMPLE
    Get-PartnerCustomer | Where-Object Domain -like '*.onmicrosoft.com'
    #>
    [CmdletBinding()]
    [OutputType('PartnerToken.Customer')]
    param(
        [Parameter()]
        [ArgumentCompleter([PartnerTokenProfileCompleter])]
        [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
        [string]$Profile
    )
    # --stream: one JSON line per customer as each page of Partner Center arrives, so the first
    # objects reach the pipeline while later pages are still being read.
    $arguments = @('customers', 'list', '--stream')
    if ($Profile) { $arguments += @('--profile', $Profile) }
    Invoke-PartnerTokenCli -Cmdlet $PSCmdlet -Arguments $arguments | ForEach-Object {
        if ([string]::IsNullOrWhiteSpace($_)) { return }
        $c = $_ | ConvertFrom-Json
        [pscustomobject]@{
            PSTypeName   = 'PartnerToken.Customer'
            TenantId     = [string](Get-JsonProperty $c 'tenantId')
            Domain       = [string](Get-JsonProperty $c 'domain')
            Name         = [string](Get-JsonProperty $c 'name')
            Relationship = Get-JsonProperty $c 'relationship'
        }
    }
}

function Get-PartnerCustomerAccessToken {
    <#
    .SYNOPSIS
    A token in each customer's tenant (partner-token customers tokens), each written to the
    pipeline as soon as it completes.
    .DESCRIPTION
    Customers come from the pipeline (Get-PartnerCustomer, or anything with a TenantId) or
    -CustomerTenantId; without either, every customer of the partner. A customer that fails
    is written as an object (Status 'error', ErrorCode, Hint) and as a non-terminating error.
    .EXAMPLE
    Get-PartnerCustomer | Where-Object Name -like 'F*' | Get-PartnerCustomerAccessToken -Scopes 'https://graph.microsoft.com/.default'
    #>
    [CmdletBinding()]
    [OutputType('PartnerToken.CustomerAccessToken')]
    param(
        [Parameter(Mandatory)]
        [ArgumentCompleter([PartnerTokenScopeCompleter])]
        [ValidateNotNullOrEmpty()]
        [string[]]$Scopes,

        [Parameter(ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('TenantId', 'CustomerId')]
        [ValidateNotNullOrEmpty()]
        [string[]]$CustomerTenantId,

        [Parameter()]
        [ValidateRange(1, 1000)]
        [int]$ThrottleLimit,

        [Parameter()]
        [ValidateRange(0, 86400)]
        [int]$MinValidity,

        [Parameter()]
        [switch]$ForceRefresh,

        [Parameter()]
        [ArgumentCompleter([PartnerTokenProfileCompleter])]
        [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
        [string]$Profile
    )
    begin {
        $customers = [System.Collections.Generic.List[string]]::new()
        $names = @{}
    }
    process {
        foreach ($id in @($CustomerTenantId)) {
            if ($id -and -not $names.ContainsKey($id)) { $names[$id] = $true; $customers.Add($id) }
        }
    }
    end {
        $arguments = [System.Collections.Generic.List[string]]::new()
        foreach ($a in 'customers', 'tokens', '--scopes') { $arguments.Add($a) }
        foreach ($s in $Scopes) { $arguments.Add($s) }
        if ($customers.Count -gt 0) {
            $arguments.Add('--customer')
            foreach ($c in $customers) { $arguments.Add($c) }
        }
        if ($PSBoundParameters.ContainsKey('ThrottleLimit')) { $arguments.Add('--concurrency'); $arguments.Add([string]$ThrottleLimit) }
        if ($PSBoundParameters.ContainsKey('MinValidity')) { $arguments.Add('--min-validity'); $arguments.Add([string]$MinValidity) }
        if ($ForceRefresh) { $arguments.Add('--force-refresh') }
        if ($Profile) { $arguments.Add('--profile'); $arguments.Add($Profile) }
        $total = $customers.Count
        $done = 0
        $failed = 0
        $activity = 'Getting customer tokens'
        $exit = 0
        Invoke-PartnerTokenCli -Cmdlet $PSCmdlet -Arguments $arguments.ToArray() -AllowExitCode 0, 1 -ExitCode ([ref]$exit) | ForEach-Object {
            $line = $_
            if ([string]::IsNullOrWhiteSpace($line)) { return }
            try { $r = $line | ConvertFrom-Json } catch { Write-Verbose "not a result line: $($line.Substring(0, [Math]::Min(80, $line.Length)))"; return }
            $done++
            $err = Get-JsonProperty $r 'error'
            $status = [string](Get-JsonProperty $r 'status')
            $result = [pscustomobject]@{
                PSTypeName    = 'PartnerToken.CustomerAccessToken'
                TenantId      = [string](Get-JsonProperty $r 'tenantId')
                Domain        = Get-JsonProperty $r 'domain'
                Name          = Get-JsonProperty $r 'name'
                Status        = $status
                AccessToken   = Get-JsonProperty $r 'accessToken'
                ExpiresOn     = ConvertTo-PartnerTokenDate (Get-JsonProperty $r 'expiresOn')
                ErrorCode     = Get-JsonProperty $err 'code'
                ErrorMessage  = Get-JsonProperty $err 'message'
                Hint          = Get-JsonProperty $err 'hint'
                CorrelationId = Get-JsonProperty $err 'correlationId'
                TraceId       = Get-JsonProperty $err 'traceId'
            }
            $progress = @{ Activity = $activity; Status = "$done done, $failed failed" }
            if ($total -gt 0) { $progress.PercentComplete = [Math]::Min(100, [int](100 * $done / $total)) }
            Write-Progress @progress
            $result
            if ($status -ne 'ok') {
                $failed++
                $code = if ($result.ErrorCode) { [string]$result.ErrorCode } else { 'ERR_CUSTOMER_TOKEN' }
                $message = "Customer $($result.TenantId)$(if ($result.Domain) { " ($($result.Domain))" }): $($result.ErrorMessage)"
                $exception = [System.Security.Authentication.AuthenticationException]::new($message)
                $exception.Data['Code'] = $code
                $exception.Data['Hint'] = $result.Hint
                $record = [System.Management.Automation.ErrorRecord]::new($exception, $code,
                    [System.Management.Automation.ErrorCategory]::AuthenticationError, $result.TenantId)
                if ($result.Hint) {
                    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($message)
                    $record.ErrorDetails.RecommendedAction = [string]$result.Hint
                }
                $PSCmdlet.WriteError($record)
            }
        }
        Write-Progress -Activity $activity -Completed
        if ($exit -eq 1 -and $failed -eq 0) {
            $PSCmdlet.ThrowTerminatingError((New-PartnerTokenErrorRecord -ExitCode 1 -StderrLines @('partner-token: customers tokens failed without a result line; run with -Verbose for its output.') -Command 'partner-token customers tokens'))
        }
    }
}

function Get-PartnerEnvironment {
    <#
    .SYNOPSIS
    The clouds (national clouds) and their endpoints (partner-token environments).
    .EXAMPLE
    Get-PartnerEnvironment -Name AzureChinaCloud
    #>
    [CmdletBinding()]
    [OutputType('PartnerToken.Environment')]
    param(
        [Parameter(Position = 0)]
        [ArgumentCompleter([PartnerTokenEnvironmentCompleter])]
        [string]$Name
    )
    $arguments = @('environments', '--output', 'json')
    if ($Name) { $arguments += $Name }
    $json = Invoke-PartnerTokenCliJson -Cmdlet $PSCmdlet -Arguments $arguments
    foreach ($e in @($json)) {
        if ($null -eq $e) { continue }
        [pscustomobject]@{
            PSTypeName            = 'PartnerToken.Environment'
            Name                  = [string](Get-JsonProperty $e 'name')
            LegacyName            = Get-JsonProperty $e 'legacyName'
            AuthorityHost         = Get-JsonProperty $e 'authorityHost'
            PartnerCenterEndpoint = Get-JsonProperty $e 'partnerCenterEndpoint'
            GraphEndpoint         = Get-JsonProperty $e 'graphEndpoint'
            CaFile                = Get-JsonProperty $e 'caFile'
        }
    }
}

function Start-PartnerTokenEmulator {
    <#
    .SYNOPSIS
    Starts the local Entra ID + Partner Center emulator (partner-token emulator) for tests.
    .DESCRIPTION
    Returns its ready line's fields (Url, CaFile, PartnerTenant, Customers, Apps, User, …) and
    Stop(). With -SetEnvironment, AZURE_AUTHORITY_HOST and PARTNER_TOKEN_CA_FILE point every
    cmdlet of this session at it until Stop() puts them back.
    .EXAMPLE
    $emulator = Start-PartnerTokenEmulator -AutoApprove -SetEnvironment
    try { New-PartnerAccessToken -ApplicationId $emulator.Apps.public.clientId -Scopes 'https://graph.microsoft.com/.default' -UseDeviceAuthentication }
    finally { $emulator.Stop() }
    #>
    [CmdletBinding()]
    [OutputType('PartnerToken.Emulator')]
    param(
        [Parameter()][ValidateRange(0, 65535)][int]$Port = 0,
        [Parameter()][string]$DataDirectory,
        [Parameter()][string]$Seed,
        [Parameter()][switch]$AutoApprove,
        [Parameter()][switch]$Http,
        [Parameter()][switch]$SetEnvironment,
        [Parameter()][ValidateRange(1, 600)][int]$TimeoutSeconds = 60
    )
    try { $cli = Resolve-PartnerTokenCli }
    catch {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                $_.Exception, 'ERR_CLI_NOT_FOUND', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $null))
    }
    $psi = [System.Diagnostics.ProcessStartInfo]::new($cli.File)
    $arguments = @($cli.Prefix) + @('emulator', '--port', [string]$Port)
    if ($DataDirectory) { $arguments += @('--data-dir', $DataDirectory) }
    if ($Seed) { $arguments += @('--seed', (Resolve-Path -LiteralPath $Seed).ProviderPath) }
    if ($AutoApprove) { $arguments += '--auto-approve' }
    if ($Http) { $arguments += '--http' }
    foreach ($a in $arguments) { $psi.ArgumentList.Add([string]$a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($psi)
    $stderrTask = $process.StandardError.ReadToEndAsync()
    $readyTask = $process.StandardOutput.ReadLineAsync()
    if (-not $readyTask.Wait([TimeSpan]::FromSeconds($TimeoutSeconds)) -or $null -eq $readyTask.Result) {
        if (-not $process.HasExited) { $process.Kill($true) }
        [void]$process.WaitForExit(5000)
        $why = if ($stderrTask.Wait(2000)) { $stderrTask.Result } else { '' }
        $exception = [System.InvalidOperationException]::new("The emulator did not start within $TimeoutSeconds s: $why")
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'ERR_EMULATOR_START', 'ResourceUnavailable', $null))
    }
    # Nothing else comes on stdout; drain it so that the emulator can never block on a full pipe.
    [void]$process.StandardOutput.ReadToEndAsync()
    $ready = $readyTask.Result | ConvertFrom-Json
    $saved = @{ AZURE_AUTHORITY_HOST = $env:AZURE_AUTHORITY_HOST; PARTNER_TOKEN_CA_FILE = $env:PARTNER_TOKEN_CA_FILE }
    if ($SetEnvironment) {
        $env:AZURE_AUTHORITY_HOST = $ready.authorityHost
        if ($ready.caFile) { $env:PARTNER_TOKEN_CA_FILE = $ready.caFile }
    }
    $emulator = [pscustomobject]@{
        PSTypeName            = 'PartnerToken.Emulator'
        Url                   = $ready.url
        AuthorityHost         = $ready.authorityHost
        PartnerCenterEndpoint = $ready.partnerCenterEndpoint
        ControlUrl            = $ready.controlUrl
        CaFile                = $ready.caFile
        PartnerTenant         = $ready.partnerTenant
        Customers             = @($ready.customers)
        Apps                  = $ready.apps
        User                  = $ready.user
        MfaUser               = Get-JsonProperty $ready 'mfaUser'
        ReadyLine             = $ready
        Process               = $process
    }
    $emulator | Add-Member -MemberType NoteProperty -Name SavedEnvironment -Value $(if ($SetEnvironment) { $saved } else { $null })
    $emulator | Add-Member -MemberType ScriptMethod -Name Stop -Value {
        $p = $this.Process
        if (-not $p.HasExited) {
            if ($IsWindows) { $p.Kill($true) } else {
                # SIGTERM: the emulator's documented way to stop (it closes its listeners).
                $kill = Start-Process -FilePath kill -ArgumentList @('-TERM', [string]$p.Id) -PassThru -Wait
                if ($kill.ExitCode -ne 0) { $p.Kill($true) }
            }
            if (-not $p.WaitForExit(10000)) { $p.Kill($true); $p.WaitForExit() }
        }
        if ($this.SavedEnvironment) {
            foreach ($k in $this.SavedEnvironment.Keys) {
                [Environment]::SetEnvironmentVariable($k, $this.SavedEnvironment[$k])
            }
            $this.SavedEnvironment = $null
        }
    }
    $emulator
}

#endregion

Export-ModuleMember -Function @(
    'New-PartnerAccessToken', 'New-SecMgmtAccessToken', 'Connect-PartnerCenter', 'Disconnect-PartnerCenter',
    'Get-PartnerAccessToken', 'Get-PartnerSession', 'Get-PartnerCustomer', 'Get-PartnerCustomerAccessToken',
    'Get-PartnerEnvironment', 'Start-PartnerTokenEmulator'
)
