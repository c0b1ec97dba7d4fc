using Azure.Core;
using Azure.Identity;
using Xunit;
using static PartnerToken.Interop.Emulator;

namespace PartnerToken.Interop;

/// <summary>
/// Azure.Identity, unmodified, against the emulator on a port of its own: the authority host set
/// to it and instance discovery disabled, as an application pointed at a private cloud does.
/// </summary>
public class AzureIdentityTests
{
    static readonly TokenRequestContext GraphDefault = new([$"{Graph}/.default"]);

    [Fact]
    public async Task ClientSecretCredential()
    {
        var credential = new ClientSecretCredential(Tenant, ConfidentialId, ConfidentialSecret,
            new ClientSecretCredentialOptions { AuthorityHost = new Uri(Url), DisableInstanceDiscovery = true });
        var token = await credential.GetTokenAsync(GraphDefault, default);
        var jwt = await VerifyAsync(token.Token, Tenant);
        Assert.Equal(Graph, jwt.Claim("aud"));
        Assert.Equal(ConfidentialId, jwt.Claim("appid"));
        Assert.Equal("1", jwt.Claim("appidacr"));
        Assert.True(token.ExpiresOn > DateTimeOffset.UtcNow.AddMinutes(30));
        // A second call is answered from the credential's cache: the same token.
        Assert.Equal(token.Token, (await credential.GetTokenAsync(GraphDefault, default)).Token);
    }

    [Fact]
    public async Task ClientCertificateCredential()
    {
        var credential = new ClientCertificateCredential(Tenant, CertificateId, LoadCertificate(),
            new ClientCertificateCredentialOptions
            {
                AuthorityHost = new Uri(Url),
                DisableInstanceDiscovery = true,
                SendCertificateChain = true,
            });
        var token = await credential.GetTokenAsync(new TokenRequestContext([$"{PartnerCenter}/.default"]), default);
        var jwt = await VerifyAsync(token.Token, Tenant);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal(CertificateId, jwt.Claim("appid"));
        Assert.Equal("2", jwt.Claim("appidacr"));
    }

    [Fact]
    public async Task DeviceCodeCredential()
    {
        string? message = null;
        var credential = new DeviceCodeCredential(new DeviceCodeCredentialOptions
        {
            TenantId = Tenant,
            ClientId = PublicId,
            AuthorityHost = new Uri(Url),
            DisableInstanceDiscovery = true,
            DeviceCodeCallback = (info, _) =>
            {
                message = info.Message;
                return Task.CompletedTask;
            },
        });
        var token = await credential.GetTokenAsync(new TokenRequestContext([$"{PartnerCenter}/user_impersonation"]), default);
        Assert.Contains("/devicelogin", message);
        var jwt = await VerifyAsync(token.Token, Tenant);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal("user_impersonation", jwt.Claim("scp"));
        Assert.Equal(Username, jwt.Claim("upn"));
        // Another resource, silently: the credential's MSAL redeems the refresh token it keeps.
        var graph = await credential.GetTokenAsync(new TokenRequestContext([$"{Graph}/User.Read"]), default);
        Assert.Equal("User.Read", (await VerifyAsync(graph.Token, Tenant)).Claim("scp"));
    }
}
