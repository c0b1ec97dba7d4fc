using System.Net;
using System.Net.Http.Json;
using Microsoft.Identity.Client;
using Xunit;
using static PartnerToken.Interop.Emulator;

namespace PartnerToken.Interop;

/// <summary>
/// What MSAL.NET reads from a failing Entra: the error body (error, error_codes, the AADSTS
/// text), Retry-After on a 429 (its throttling then refuses the same request locally until the
/// time has passed) and a 503 without Retry-After, retried once. Faults come from the emulator's control API, each on a
/// tenant's token path that no other test uses.
/// </summary>
public class ErrorTests
{
    static readonly string[] GraphDefault = [$"{Graph}/.default"];

    static IConfidentialClientApplication App(string tenant, string secret) =>
        ConfidentialClientApplicationBuilder.Create(ConfidentialId)
            .WithClientSecret(secret)
            .WithAuthority(Url, tenant, validateAuthority: false)
            .Build();

    static async Task InjectFaultAsync(object fault)
    {
        using var response = await Http.PostAsJsonAsync($"{Var("EMU_CONTROL_URL")}/faults", fault);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WrongSecret_ErrorBodyParsed()
    {
        var e = await Assert.ThrowsAsync<MsalServiceException>(
            () => App(Tenant, "not-the-secret").AcquireTokenForClient(GraphDefault).ExecuteAsync());
        Assert.Equal("invalid_client", e.ErrorCode);
        Assert.Equal(401, e.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(e.ResponseBody);
        Assert.Equal(7000215, body.RootElement.GetProperty("error_codes")[0].GetInt32());
        Assert.Contains("AADSTS7000215", e.Message);
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("trace_id").GetString()));
        Assert.DoesNotContain("not-the-secret", e.Message);
    }

    [Fact]
    public async Task Throttled429_RetryAfterHonoured_ThenServed()
    {
        var tenant = Var("EMU_SPARE_TENANT_A");
        await InjectFaultAsync(new { path = $"/{tenant}/oauth2/v2.0/token", method = "POST", count = 1, status = 429, retryAfter = 2 });
        var app = App(tenant, ConfidentialSecret);
        var first = await Assert.ThrowsAnyAsync<MsalServiceException>(
            () => app.AcquireTokenForClient(GraphDefault).ExecuteAsync());
        Assert.Equal(429, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), first.Headers?.RetryAfter?.Delta);
        // Within Retry-After, MSAL refuses the same request itself.
        await Assert.ThrowsAsync<MsalThrottledServiceException>(
            () => app.AcquireTokenForClient(GraphDefault).ExecuteAsync());
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var result = await app.AcquireTokenForClient(GraphDefault).ExecuteAsync();
        Assert.Equal(tenant, (await VerifyAsync(result.AccessToken, tenant)).Claim("tid"));
    }

    /// <summary>Without Retry-After, MSAL.NET retries a 5xx from the token endpoint once (with it, it backs off).</summary>
    [Fact]
    public async Task ServiceUnavailable503_RetriedOnce()
    {
        var tenant = Var("EMU_SPARE_TENANT_B");
        await InjectFaultAsync(new { path = $"/{tenant}/oauth2/v2.0/token", method = "POST", count = 1, status = 503 });
        var result = await App(tenant, ConfidentialSecret).AcquireTokenForClient(GraphDefault).ExecuteAsync();
        await VerifyAsync(result.AccessToken, tenant);
    }
}
