using Azure.Core;
using Azure.Identity;
using Microsoft.Identity.Client;
using Xunit;
using static PartnerToken.Interop.Emulator;

namespace PartnerToken.Interop;

/// <summary>
/// `emulator --impersonate` answering as login.microsoftonline.com (a hosts file in this test's
/// private namespace points Microsoft's names at it): MSAL.NET and Azure.Identity with no
/// endpoint setting at all, so instance discovery and authority validation run as in production.
/// </summary>
public class ImpersonateTests
{
    const string Login = "https://login.microsoftonline.com";
    static string ImpersonatedTenant => Var("EMU_IMPERSONATE_TENANT");

    static async Task<Microsoft.IdentityModel.JsonWebTokens.JsonWebToken> VerifyImpersonated(string token)
    {
        var jwt = await VerifyAsync(token, ImpersonatedTenant, Login);
        Assert.Equal($"https://sts.windows.net/{ImpersonatedTenant}/", jwt.Claim("iss"));
        return jwt;
    }

    [Fact]
    public async Task Msal_AzurePublicCloud_ClientSecret()
    {
        var app = ConfidentialClientApplicationBuilder.Create(ConfidentialId)
            .WithClientSecret(ConfidentialSecret)
            .WithAuthority(AzureCloudInstance.AzurePublic, ImpersonatedTenant)
            .Build();
        var result = await app.AcquireTokenForClient([$"{PartnerCenter}/.default"]).ExecuteAsync();
        var jwt = await VerifyImpersonated(result.AccessToken);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal("1", jwt.Claim("appidacr"));
        Assert.Equal(TokenSource.Cache,
            (await app.AcquireTokenForClient([$"{PartnerCenter}/.default"]).ExecuteAsync()).AuthenticationResultMetadata.TokenSource);
    }

    [Fact]
    public async Task Msal_AzurePublicCloud_DeviceCode_ThenSilent()
    {
        var app = PublicClientApplicationBuilder.Create(PublicId)
            .WithAuthority(AzureCloudInstance.AzurePublic, AadAuthorityAudience.AzureAdMultipleOrgs)
            .Build();
        string? message = null;
        var result = await app.AcquireTokenWithDeviceCode([$"{PartnerCenter}/user_impersonation"], d =>
        {
            message = d.Message;
            return Task.CompletedTask;
        }).ExecuteAsync();
        Assert.Contains($"{Login}/devicelogin", message);
        var jwt = await VerifyImpersonated(result.AccessToken);
        Assert.Equal("user_impersonation", jwt.Claim("scp"));
        var account = Assert.Single(await app.GetAccountsAsync());
        var graph = await app.AcquireTokenSilent([$"{Graph}/User.Read"], account).ExecuteAsync();
        Assert.Equal(Graph, (await VerifyImpersonated(graph.AccessToken)).Claim("aud"));
    }

    [Fact]
    public async Task AzureIdentity_NothingSet_ClientSecretCredential()
    {
        var credential = new ClientSecretCredential(ImpersonatedTenant, ConfidentialId, ConfidentialSecret);
        var token = await credential.GetTokenAsync(new TokenRequestContext([$"{Graph}/.default"]), default);
        var jwt = await VerifyImpersonated(token.Token);
        Assert.Equal(Graph, jwt.Claim("aud"));
        Assert.Equal(ConfidentialId, jwt.Claim("appid"));
    }

    [Fact]
    public async Task AzureIdentity_NothingSet_DeviceCodeCredential()
    {
        var credential = new DeviceCodeCredential(new DeviceCodeCredentialOptions
        {
            TenantId = ImpersonatedTenant,
            ClientId = PublicId,
            DeviceCodeCallback = (_, _) => Task.CompletedTask,
        });
        var token = await credential.GetTokenAsync(new TokenRequestContext([$"{PartnerCenter}/user_impersonation"]), default);
        var jwt = await VerifyImpersonated(token.Token);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal(Username, jwt.Claim("upn"));
    }
}
