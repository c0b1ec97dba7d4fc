using System.Diagnostics;
using System.Text.Json;
using Xunit;
using static PartnerToken.Interop.Emulator;

namespace PartnerToken.Interop;

/// <summary>
/// The sidecar: this assembly, started as a program (Child.cs) by `partner-token exec` or beside
/// `partner-token serve`, gets the customer's token from Azure.Identity's
/// ManagedIdentityCredential and DefaultAzureCredential, and reads a secret with SecretClient
/// from the emulator's vault. The partner's session was made by dotnet.test.ts (`connect`).
/// </summary>
public class SidecarTests
{
    static readonly string Assembly = typeof(Child).Assembly.Location;

    /// <summary>What a partner's shell may hold: variables that would make an SDK pick another credential.</summary>
    static readonly Dictionary<string, string> Decoys = new()
    {
        ["AZURE_CLIENT_SECRET"] = "decoy-secret-that-must-not-be-used",
        ["AZURE_CLIENT_ID"] = Environment.GetEnvironmentVariable("EMU_CONFIDENTIAL_ID") ?? "",
        ["AZURE_TENANT_ID"] = Environment.GetEnvironmentVariable("EMU_TENANT") ?? "",
        ["MSI_ENDPOINT"] = "http://127.0.0.1:9/decoy",
        ["MSI_SECRET"] = "decoy",
        ["IMDS_ENDPOINT"] = "http://127.0.0.1:9/decoy",
        ["IDENTITY_SERVER_THUMBPRINT"] = "decoy",
    };

    sealed record Run(int Code, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout.Trim().Split('\n')[^1]).RootElement;
        public override string ToString() => $"exit {Code}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>Runs a process with the test's environment plus <paramref name="env"/>, to its end.</summary>
    static async Task<Run> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string> env)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not end: {await stderr}");
        }
        return new Run(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>`partner-token exec [--tenant T] -- dotnet PartnerToken.Interop.dll child …`.</summary>
    static Task<Run> ExecAsync(string? tenant, string[] child, IDictionary<string, string> env)
    {
        var args = new List<string> { Var("PT_MAIN"), "exec" };
        if (tenant != null) args.AddRange(["--tenant", tenant]);
        args.AddRange(["--log-requests", "--", "dotnet", Assembly, "child"]);
        args.AddRange(child);
        return RunAsync(Var("PT_NODE"), args, env);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("default")]
    public async Task Exec_Customer_AzureIdentity(string kind)
    {
        var run = await ExecAsync(Customer, [kind, $"{Graph}/.default"], Decoys);
        Assert.True(run.Code == 0, run.ToString());
        var json = run.Json;
        Assert.False(json.GetProperty("sawClientSecret").GetBoolean(), "exec left AZURE_CLIENT_SECRET to the command");
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/msi/token$", json.GetProperty("identityEndpoint").GetString());
        var jwt = await VerifyAsync(json.GetProperty("token").GetString()!, Customer);
        Assert.Equal(Graph, jwt.Claim("aud"));
        Assert.Equal(ConfidentialId, jwt.Claim("appid"));
        Assert.True(json.GetProperty("expiresOn").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds(),
            "expires_on read as a time in the future");
        Assert.Matches(@"GET /msi/token 200 .*resource=https://graph\.microsoft\.com", run.Stderr);
        Assert.DoesNotContain("decoy-secret", run.Stderr);
        // The only api-version the sidecar speaks (2019-08-01) served every request: no probe, no retry.
        Assert.DoesNotMatch(@"GET /msi/token [45]\d\d", run.Stderr);
    }

    [Fact]
    public async Task Exec_SecretClient_WritesAndReadsTheVault()
    {
        var env = new Dictionary<string, string>(Decoys) { ["VAULT_URL"] = Url };
        var run = await ExecAsync(null, ["keyvault", "dotnet-sidecar-secret", "the secret's value"], env);
        Assert.True(run.Code == 0, run.ToString());
        Assert.Equal("dotnet-sidecar-secret", run.Json.GetProperty("name").GetString());
        Assert.Equal("the secret's value", run.Json.GetProperty("value").GetString());
        Assert.Matches(@"GET /msi/token 200 .*resource=https://vault\.azure\.net", run.Stderr);
    }

    [Fact]
    public async Task Serve_IdentityVariablesByHand_ManagedIdentityCredential()
    {
        var start = new ProcessStartInfo(Var("PT_NODE"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Var("PT_MAIN"), "serve", "--tenant", Customer }) start.ArgumentList.Add(a);
        using var serve = Process.Start(start)!;
        try
        {
            var line = await serve.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (string.IsNullOrEmpty(line))
            {
                serve.Kill(entireProcessTree: true);
                Assert.Fail($"serve printed no ready line: {await serve.StandardError.ReadToEndAsync()}");
            }
            using var ready = JsonDocument.Parse(line!);
            var env = new Dictionary<string, string>
            {
                ["IDENTITY_ENDPOINT"] = ready.RootElement.GetProperty("identityEndpoint").GetString()!,
                ["IDENTITY_HEADER"] = ready.RootElement.GetProperty("identityHeader").GetString()!,
            };
            var run = await RunAsync("dotnet", [Assembly, "child", "managed", $"{PartnerCenter}/.default"], env);
            Assert.True(run.Code == 0, run.ToString());
            var jwt = await VerifyAsync(run.Json.GetProperty("token").GetString()!, Customer);
            Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
        }
    }
}
