using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;

namespace PartnerToken.Interop;

/// <summary>
/// The program `partner-token exec` and `serve` run in the sidecar tests: this assembly, started
/// as `dotnet PartnerToken.Interop.dll child MODE …`. It uses Azure.Identity as an application
/// would, with no setting, and prints what it got as one JSON line.
///   child managed SCOPE | child default SCOPE | child keyvault NAME VALUE (vault at VAULT_URL)
/// </summary>
public static class Child
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length < 3 || args[0] != "child")
        {
            Console.Error.WriteLine("usage: PartnerToken.Interop child (managed|default) SCOPE | child keyvault NAME VALUE");
            return 2;
        }
        try
        {
            switch (args[1])
            {
                case "managed":
                case "default":
                {
                    TokenCredential credential = args[1] == "managed"
                        ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                        : new DefaultAzureCredential();
                    var token = await credential.GetTokenAsync(new TokenRequestContext([args[2]]), default);
                    Print(new Dictionary<string, object?>
                    {
                        ["token"] = token.Token,
                        ["expiresOn"] = token.ExpiresOn.ToUnixTimeSeconds(),
                        ["sawClientSecret"] = Environment.GetEnvironmentVariable("AZURE_CLIENT_SECRET") != null,
                        ["identityEndpoint"] = Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT"),
                    });
                    return 0;
                }
                case "keyvault":
                {
                    var client = new SecretClient(
                        new Uri(Environment.GetEnvironmentVariable("VAULT_URL")!),
                        new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned),
                        // The emulator's vault is at 127.0.0.1, not under vault.azure.net, the challenge's resource.
                        new SecretClientOptions { DisableChallengeResourceVerification = true });
                    await client.SetSecretAsync(args[2], args.Length > 3 ? args[3] : "a value");
                    var secret = (await client.GetSecretAsync(args[2])).Value;
                    Print(new Dictionary<string, object?> { ["name"] = secret.Name, ["value"] = secret.Value });
                    return 0;
                }
                default:
                    Console.Error.WriteLine($"unknown mode {args[1]}");
                    return 2;
            }
        }
        catch (Exception e)
        {
            Print(new Dictionary<string, object?> { ["error"] = e.GetType().Name, ["message"] = e.Message });
            return 3;
        }
    }

    static void Print(Dictionary<string, object?> value) => Console.WriteLine(JsonSerializer.Serialize(value));
}
