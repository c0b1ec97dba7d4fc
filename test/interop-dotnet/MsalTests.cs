using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Identity.Client;
using Microsoft.Identity.Client.Extensibility;
using Xunit;
using static PartnerToken.Interop.Emulator;

namespace PartnerToken.Interop;

/// <summary>
/// MSAL.NET (Microsoft.Identity.Client), unmodified, against the emulator on a port of its own:
/// the flows the original New-PartnerAccessToken ran, each followed by AcquireTokenSilent.
/// </summary>
public class MsalTests
{
    static readonly string[] GraphDefault = [$"{Graph}/.default"];
    static readonly string[] UserRead = [$"{Graph}/User.Read"];
    static readonly string[] PartnerCenterUser = [$"{PartnerCenter}/user_impersonation"];

    /// <summary>The confidential app with its secret, authority given as (url, tenant) without validation.</summary>
    static IConfidentialClientApplication ConfidentialWithSecret(Action<byte[]>? cacheWritten = null)
    {
        var app = ConfidentialClientApplicationBuilder.Create(ConfidentialId)
            .WithClientSecret(ConfidentialSecret)
            .WithAuthority(Url, Tenant, validateAuthority: false)
            .WithRedirectUri(RedirectUri)
            .Build();
        if (cacheWritten != null)
            app.UserTokenCache.SetAfterAccess(a =>
            {
                if (a.HasStateChanged) cacheWritten(a.TokenCache.SerializeMsalV3());
            });
        return app;
    }

    [Fact]
    public async Task ConfidentialClient_Secret_ThenFromCache()
    {
        var app = ConfidentialWithSecret();
        var first = await app.AcquireTokenForClient(GraphDefault).ExecuteAsync();
        Assert.Equal(TokenSource.IdentityProvider, first.AuthenticationResultMetadata.TokenSource);
        var jwt = await VerifyAsync(first.AccessToken, Tenant);
        Assert.Equal(Graph, jwt.Claim("aud"));
        Assert.Equal(ConfidentialId, jwt.Claim("appid"));
        Assert.Equal("1", jwt.Claim("appidacr"));
        Assert.Equal(["Directory.Read.All", "Organization.Read.All"], jwt.Claims("roles").Order());
        Assert.False(jwt.TryGetClaim("scp", out _), "an app-only token has roles, not scp");
        Assert.Equal(Tenant, first.TenantId);
        var again = await app.AcquireTokenForClient(GraphDefault).ExecuteAsync();
        Assert.Equal(TokenSource.Cache, again.AuthenticationResultMetadata.TokenSource);
        Assert.Equal(first.AccessToken, again.AccessToken);
    }

    [Fact]
    public async Task ConfidentialClient_CertificateBySha1Thumbprint_InstanceDiscoveryOff()
    {
        // Found as the cmdlet's -CertificateThumbprint found it: by its SHA-1 thumbprint.
        var store = new X509Certificate2Collection(LoadCertificate());
        var cert = Assert.Single(store.Find(X509FindType.FindByThumbprint, Var("EMU_CERTIFICATE_SHA1"), validOnly: false));
        Assert.True(cert.HasPrivateKey);
        var app = ConfidentialClientApplicationBuilder.Create(CertificateId)
            .WithCertificate(cert)
            .WithAuthority($"{Url}/{Tenant}")
            .WithInstanceDiscovery(false)
            .Build();
        var result = await app.AcquireTokenForClient([$"{PartnerCenter}/.default"]).ExecuteAsync();
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal(CertificateId, jwt.Claim("appid"));
        Assert.Equal("2", jwt.Claim("appidacr"));
        var again = await app.AcquireTokenForClient([$"{PartnerCenter}/.default"]).ExecuteAsync();
        Assert.Equal(TokenSource.Cache, again.AuthenticationResultMetadata.TokenSource);
    }

    [Fact]
    public async Task ConfidentialClient_CertificateBySha256Thumbprint_WithSendX5C()
    {
        var cert = new X509Certificate2Collection(LoadCertificate()).Cast<X509Certificate2>()
            .Single(c => Sha256Hex(c).Equals(Var("EMU_CERTIFICATE_SHA256"), StringComparison.OrdinalIgnoreCase));
        var app = ConfidentialClientApplicationBuilder.Create(CertificateId)
            .WithCertificate(cert, sendX5C: true)
            .WithAuthority(Url, Tenant, validateAuthority: false)
            .Build();
        var result = await app.AcquireTokenForClient(GraphDefault).WithSendX5C(true).ExecuteAsync();
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal(Graph, jwt.Claim("aud"));
        Assert.Equal("2", jwt.Claim("appidacr"));
        Assert.Contains("Directory.Read.All", jwt.Claims("roles"));
        Assert.Equal(TokenSource.Cache,
            (await app.AcquireTokenForClient(GraphDefault).ExecuteAsync()).AuthenticationResultMetadata.TokenSource);
    }

    /// <summary>
    /// An OIDC authority (the emulator's v2.0 discovery document): MSAL.NET 4.92 then signs its
    /// assertion RS256 with the SHA-1 `x5t`, where for Entra authorities (the tests above, however
    /// the certificate was found) it signs PS256 with `x5t#S256` (and `x5c` as one string).
    /// </summary>
    [Fact]
    public async Task ConfidentialClient_Certificate_OidcAuthority()
    {
        var app = ConfidentialClientApplicationBuilder.Create(CertificateId)
            .WithCertificate(LoadCertificate())
            .WithOidcAuthority($"{Url}/{Tenant}/v2.0")
            .Build();
        var result = await app.AcquireTokenForClient(GraphDefault).ExecuteAsync();
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal("2", jwt.Claim("appidacr"));
        Assert.Equal(CertificateId, jwt.Claim("appid"));
    }

    [Fact]
    public async Task AuthorizationCode_WithSecret_ThenSilent_ThenForcedRefresh()
    {
        var app = ConfidentialWithSecret();
        var url = await app.GetAuthorizationRequestUrl(PartnerCenterUser).ExecuteAsync();
        var back = await SignInAsync(url);
        var code = System.Web.HttpUtility.ParseQueryString(back.Query)["code"];
        Assert.False(string.IsNullOrEmpty(code), $"no code in {back}");
        var result = await app.AcquireTokenByAuthorizationCode(PartnerCenterUser, code).ExecuteAsync();
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal("user_impersonation", jwt.Claim("scp"));
        Assert.Equal(Username, jwt.Claim("upn"));
        Assert.Equal(Username, result.Account.Username);
        Assert.Equal(Tenant, result.TenantId);

        var account = await app.GetAccountAsync(result.Account.HomeAccountId.Identifier);
        Assert.NotNull(account);
        var silent = await app.AcquireTokenSilent(PartnerCenterUser, account).ExecuteAsync();
        Assert.Equal(TokenSource.Cache, silent.AuthenticationResultMetadata.TokenSource);
        // Another resource: MSAL redeems its refresh token.
        var graph = await app.AcquireTokenSilent(UserRead, account).ExecuteAsync();
        Assert.Equal(TokenSource.IdentityProvider, graph.AuthenticationResultMetadata.TokenSource);
        var g = await VerifyAsync(graph.AccessToken, Tenant);
        Assert.Equal(Graph, g.Claim("aud"));
        Assert.Equal("User.Read", g.Claim("scp"));
        var forced = await app.AcquireTokenSilent(PartnerCenterUser, account).WithForceRefresh(true).ExecuteAsync();
        Assert.NotEqual(result.AccessToken, forced.AccessToken);
        await VerifyAsync(forced.AccessToken, Tenant);
    }

    [Fact]
    public async Task ConfidentialClient_AcquireTokenByRefreshToken_ThenSilent()
    {
        // The App + User path: a user's refresh token (here from MSAL's own serialized cache after
        // a sign-in) redeemed by the confidential app with its secret, in a fresh application.
        byte[]? cache = null;
        var signIn = ConfidentialWithSecret(b => cache = b);
        var back = await SignInAsync(await signIn.GetAuthorizationRequestUrl(PartnerCenterUser).ExecuteAsync());
        var code = System.Web.HttpUtility.ParseQueryString(back.Query)["code"]!;
        await signIn.AcquireTokenByAuthorizationCode(PartnerCenterUser, code).ExecuteAsync();
        Assert.NotNull(cache);
        var refreshToken = RefreshTokenOf(cache!);

        var app = ConfidentialWithSecret();
        var result = await ((IByRefreshToken)app).AcquireTokenByRefreshToken(UserRead, refreshToken).ExecuteAsync();
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal(Graph, jwt.Claim("aud"));
        Assert.Equal("User.Read", jwt.Claim("scp"));
        Assert.Equal(ConfidentialId, jwt.Claim("appid"));
        var account = await app.GetAccountAsync(result.Account.HomeAccountId.Identifier);
        Assert.NotNull(account);
        var silent = await app.AcquireTokenSilent(UserRead, account).ExecuteAsync();
        Assert.Equal(TokenSource.Cache, silent.AuthenticationResultMetadata.TokenSource);
        var pc = await app.AcquireTokenSilent(PartnerCenterUser, account).ExecuteAsync();
        Assert.Equal(PartnerCenter, (await VerifyAsync(pc.AccessToken, Tenant)).Claim("aud"));
    }

    /// <summary>The public app, authority (url, organizations) without validation, its cache observed.</summary>
    static IPublicClientApplication Public(string? redirectUri, Action<byte[]> cacheWritten)
    {
        var builder = PublicClientApplicationBuilder.Create(PublicId)
            .WithAuthority(Url, "organizations", validateAuthority: false);
        if (redirectUri != null) builder = builder.WithRedirectUri(redirectUri);
        var app = builder.Build();
        app.UserTokenCache.SetAfterAccess(a =>
        {
            if (a.HasStateChanged) cacheWritten(a.TokenCache.SerializeMsalV3());
        });
        return app;
    }

    [Fact]
    public async Task PublicClient_DeviceCode_ThenSilent_ThenRefreshTokenFromCache()
    {
        byte[]? cache = null;
        var app = Public(null, b => cache = b);
        string? message = null;
        string? userCode = null;
        var result = await app.AcquireTokenWithDeviceCode(PartnerCenterUser, d =>
        {
            message = d.Message;
            userCode = d.UserCode;
            return Task.CompletedTask;
        }).ExecuteAsync();
        Assert.NotNull(userCode);
        Assert.Contains(userCode!, message);
        Assert.Contains("/devicelogin", message);
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal("user_impersonation", jwt.Claim("scp"));
        Assert.Equal(PublicId, jwt.Claim("appid"));
        Assert.Equal("0", jwt.Claim("appidacr"));

        var account = Assert.Single(await app.GetAccountsAsync());
        Assert.Equal(Username, account.Username);
        Assert.Equal(TokenSource.Cache,
            (await app.AcquireTokenSilent(PartnerCenterUser, account).ExecuteAsync()).AuthenticationResultMetadata.TokenSource);

        var other = Public(null, _ => { });
        var redeemed = await ((IByRefreshToken)other).AcquireTokenByRefreshToken(UserRead, RefreshTokenOf(cache!)).ExecuteAsync();
        Assert.Equal("User.Read", (await VerifyAsync(redeemed.AccessToken, Tenant)).Claim("scp"));
    }

    /// <summary>
    /// The cmdlet's own web UI: a listener on a loopback port in 8400–8999 and a browser (here an
    /// HTTP client following the emulator's auto-approved sign-in) that lands on it.
    /// </summary>
    sealed class LoopbackWebUi : ICustomWebUi
    {
        public Uri? Authorize;

        public async Task<Uri> AcquireAuthorizationCodeAsync(Uri authorizationUri, Uri redirectUri, CancellationToken cancellationToken)
        {
            Authorize = authorizationUri;
            using var listener = new HttpListener();
            listener.Prefixes.Add(redirectUri.GetLeftPart(UriPartial.Path));
            listener.Start();
            var received = listener.GetContextAsync();
            var back = await SignInAsync(authorizationUri);
            Assert.Equal(redirectUri.Authority, back.Authority);
            var browser = Http.GetAsync(back, cancellationToken);
            var context = await received;
            var url = context.Request.Url!;
            Assert.True(url.Query.Contains("code="), $"the loopback received {url} (the emulator redirected to {back})");
            context.Response.StatusCode = 200;
            await context.Response.OutputStream.WriteAsync("signed in"u8.ToArray(), cancellationToken);
            context.Response.Close();
            using var page = await browser;
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            return url;
        }
    }

    static int FreeLoopbackPort()
    {
        for (var port = 8400; port <= 8999; port++)
        {
            try
            {
                var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                l.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free port in 8400-8999");
    }

    [Fact]
    public async Task PublicClient_InteractiveWithCustomWebUi_OnLoopback8400To8999()
    {
        byte[]? cache = null;
        var port = FreeLoopbackPort();
        var app = Public($"http://localhost:{port}/", b => cache = b);
        var ui = new LoopbackWebUi();
        var result = await app.AcquireTokenInteractive(PartnerCenterUser).WithCustomWebUi(ui).ExecuteAsync();
        Assert.Contains("code_challenge=", ui.Authorize!.Query);
        var jwt = await VerifyAsync(result.AccessToken, Tenant);
        Assert.Equal(PartnerCenter, jwt.Claim("aud"));
        Assert.Equal(Username, jwt.Claim("upn"));
        Assert.Equal(Username, result.ClaimsPrincipal?.FindFirst("preferred_username")?.Value);

        var account = Assert.Single(await app.GetAccountsAsync());
        var silent = await app.AcquireTokenSilent(UserRead, account).ExecuteAsync();
        Assert.Equal("User.Read", (await VerifyAsync(silent.AccessToken, Tenant)).Claim("scp"));

        // As the cmdlet did: the refresh token read back from the serialized cache, then redeemed.
        var refreshToken = RefreshTokenOf(cache!);
        var other = Public(null, _ => { });
        var redeemed = await ((IByRefreshToken)other).AcquireTokenByRefreshToken(PartnerCenterUser, refreshToken).ExecuteAsync();
        Assert.Equal(PartnerCenter, (await VerifyAsync(redeemed.AccessToken, Tenant)).Claim("aud"));
        var otherAccount = Assert.Single(await other.GetAccountsAsync());
        Assert.Equal(TokenSource.Cache,
            (await other.AcquireTokenSilent(PartnerCenterUser, otherAccount).ExecuteAsync()).AuthenticationResultMetadata.TokenSource);
    }
}
