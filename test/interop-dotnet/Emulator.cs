using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace PartnerToken.Interop;

/// <summary>
/// What dotnet.test.ts tells these tests through the environment (never argv): the emulator's
/// URL, its directory's ids, the demo secret and certificate files. TLS trust comes from
/// SSL_CERT_FILE (the system roots plus the emulators' CAs); no test turns validation off.
/// </summary>
public static class Emulator
{
    public const string Graph = "https://graph.microsoft.com";
    public const string PartnerCenter = "https://api.partnercenter.microsoft.com";

    public static string Var(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? v
            : throw new InvalidOperationException(
                $"{name} is not set: run these tests through test/interop-dotnet/dotnet.test.ts, which starts the emulator and sets it");

    /// <summary>The emulator on a port of its own, e.g. https://127.0.0.1:40123.</summary>
    public static string Url => Var("EMU_URL");
    public static string Tenant => Var("EMU_TENANT");
    public static string Customer => Var("EMU_CUSTOMER");
    public static string Username => Var("EMU_USERNAME");
    public static string ConfidentialId => Var("EMU_CONFIDENTIAL_ID");
    public static string ConfidentialSecret => Var("EMU_CONFIDENTIAL_SECRET");
    public static string RedirectUri => Var("EMU_REDIRECT_URI");
    public static string CertificateId => Var("EMU_CERTIFICATE_ID");
    public static string PublicId => Var("EMU_PUBLIC_ID");

    /// <summary>The demo certificate with its private key, from the emulator's PEM files.</summary>
    public static X509Certificate2 LoadCertificate() =>
        X509Certificate2.CreateFromPemFile(Var("EMU_CERTIFICATE_FILE"), Var("EMU_KEY_FILE"));

    /// <summary>An HTTP client trusting what the process trusts; redirects are not followed.</summary>
    public static readonly HttpClient Http = new(new HttpClientHandler { AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>
    /// Verifies an access token's signature against the JWKS the emulator at <paramref name="host"/>
    /// publishes for <paramref name="tenant"/>, and its lifetime; returns the token for its claims.
    /// </summary>
    public static async Task<JsonWebToken> VerifyAsync(string token, string tenant, string? host = null)
    {
        var jwks = await Http.GetStringAsync($"{host ?? Url}/{tenant}/discovery/v2.0/keys");
        var keys = new JsonWebKeySet(jwks).GetSigningKeys();
        Assert.NotEmpty(keys);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(
            token,
            new TokenValidationParameters
            {
                IssuerSigningKeys = keys,
                ValidateIssuer = false,
                ValidateAudience = false,
                ValidateLifetime = true,
                ValidAlgorithms = ["RS256"],
            });
        Assert.True(result.IsValid, $"the token does not verify against {host ?? Url}'s JWKS: {result.Exception}");
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal(tenant, jwt.GetClaim("tid").Value);
        return jwt;
    }

    public static string Claim(this JsonWebToken jwt, string name) =>
        jwt.TryGetClaim(name, out var c) ? c.Value : throw new Xunit.Sdk.XunitException($"no '{name}' claim in {jwt.EncodedPayload}");

    /// <summary>The values of a claim that may be an array (roles).</summary>
    public static string[] Claims(this JsonWebToken jwt, string name) =>
        jwt.Claims.Where(c => c.Type == name).Select(c => c.Value).ToArray();

    /// <summary>
    /// What a browser does with the emulator's auto-approved sign-in: GET the authorize URL and
    /// take the redirect it answers with (the code, state, client_info…).
    /// </summary>
    public static async Task<Uri> SignInAsync(Uri authorizeUrl)
    {
        using var response = await Http.GetAsync(authorizeUrl);
        Assert.True(
            response.StatusCode == HttpStatusCode.Found,
            $"authorize answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!;
    }

    /// <summary>The refresh token in MSAL's serialized cache (its "RefreshToken" section), as the cmdlet read it.</summary>
    public static string RefreshTokenOf(byte[] msalV3Cache)
    {
        using var doc = JsonDocument.Parse(msalV3Cache);
        var section = doc.RootElement.GetProperty("RefreshToken");
        var entry = Assert.Single(section.EnumerateObject());
        return entry.Value.GetProperty("secret").GetString()!;
    }

    public static string Sha256Hex(X509Certificate2 cert) =>
        Convert.ToHexString(cert.GetCertHash(HashAlgorithmName.SHA256));
}
