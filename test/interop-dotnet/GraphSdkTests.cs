using System.Diagnostics;
using Process = System.Diagnostics.Process;
using Azure.Identity;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Xunit;
using static PartnerToken.Interop.Emulator;

namespace PartnerToken.Interop;

/// <summary>
/// Microsoft's Graph SDK for .NET (Microsoft.Graph, GraphServiceClient), unmodified, reads the
/// emulator's Graph with a partner user's token from Azure.Identity's DeviceCodeCredential (the
/// emulator approves the sign-in itself). Under --impersonate nothing is set: the SDK calls
/// https://graph.microsoft.com and the credential login.microsoftonline.com, which this test's
/// private namespace points at the emulator. Against the emulator on a port of its own, the base
/// URL is the emulator's origin, as for a national cloud's Graph; there the token also comes from
/// `partner-token token` (the partner's session that dotnet.test.ts made with `connect`).
/// </summary>
public class GraphSdkTests
{
    const string AzureCli = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
    const string GraphApp = "00000003-0000-0000-c000-000000000000";
    static readonly string[] GraphDefault = [$"{Graph}/.default"];

    static string ImpersonatedTenant => Var("EMU_IMPERSONATE_TENANT");
    static string ImpersonatedCustomer => Var("EMU_IMPERSONATE_CUSTOMER");

    /// <summary>The partner's admin signed in with the Azure CLI's client id, in <paramref name="tenant"/>.</summary>
    static DeviceCodeCredential SignedIn(string tenant, string? authorityHost = null) =>
        new(new DeviceCodeCredentialOptions
        {
            TenantId = tenant,
            ClientId = AzureCli,
            AuthorityHost = authorityHost is null ? null : new Uri(authorityHost),
            DisableInstanceDiscovery = authorityHost is not null,
            DeviceCodeCallback = (_, _) => Task.CompletedTask,
        });

    /// <summary>Every item of a collection, through the SDK's PageIterator (it follows @odata.nextLink).</summary>
    static async Task<List<T>> AllPages<T, TPage>(GraphServiceClient graph, TPage first)
        where TPage : IParsable, IAdditionalDataHolder, new()
    {
        var all = new List<T>();
        var iterator = PageIterator<T, TPage>.CreatePageIterator(graph, first, item =>
        {
            all.Add(item);
            return true;
        });
        await iterator.IterateAsync();
        return all;
    }

    [Fact]
    public async Task Impersonated_NothingSet_GdapRelationshipsPaged_AccessAssignmentsNameTheGroup()
    {
        var graph = new GraphServiceClient(SignedIn(ImpersonatedTenant), GraphDefault);
        var first = await graph.TenantRelationships.DelegatedAdminRelationships.GetAsync(r => r.QueryParameters.Top = 1);
        Assert.NotNull(first);
        Assert.Single(first.Value!);
        Assert.StartsWith($"{Graph}/v1.0/tenantRelationships/delegatedAdminRelationships?", first.OdataNextLink);
        var relationships = await AllPages<DelegatedAdminRelationship, DelegatedAdminRelationshipCollectionResponse>(graph, first);
        // The default seed: GDAP with Fabrikam, Northwind and Adatum, one a page.
        Assert.Equal(3, relationships.Count);
        Assert.Equal(3, relationships.Select(r => r.Id).Distinct().Count());
        Assert.All(relationships, r =>
        {
            Assert.Equal(DelegatedAdminRelationshipStatus.Active, r.Status);
            Assert.False(string.IsNullOrEmpty(r.Customer?.TenantId));
            Assert.NotEmpty(r.AccessDetails!.UnifiedRoles!);
        });

        var fabrikam = await graph.TenantRelationships.DelegatedAdminRelationships.GetAsync(r =>
        {
            r.QueryParameters.Filter = $"customer/tenantId eq '{ImpersonatedCustomer}'";
            r.QueryParameters.Select = ["id", "status", "customer"];
        });
        var relationship = Assert.Single(fabrikam!.Value!);
        Assert.Equal(ImpersonatedCustomer, relationship.Customer!.TenantId);

        var assignments = await graph.TenantRelationships.DelegatedAdminRelationships[relationship.Id].AccessAssignments.GetAsync();
        var assignment = Assert.Single(assignments!.Value!);
        Assert.Equal(DelegatedAdminAccessContainerType.SecurityGroup, assignment.AccessContainer!.AccessContainerType);
        Assert.NotEmpty(assignment.AccessDetails!.UnifiedRoles!);
        var groupId = assignment.AccessContainer.AccessContainerId!;
        var group = await graph.Groups[groupId].GetAsync();
        Assert.Equal("GDAP Administrators", group!.DisplayName);
        var memberOf = await graph.Me.TransitiveMemberOf.GetAsync();
        Assert.Contains(memberOf!.Value!, o => o.Id == groupId);
    }

    [Fact]
    public async Task Impersonated_CustomerTenant_ServicePrincipalsPaged_AppGrants()
    {
        var graph = new GraphServiceClient(SignedIn(ImpersonatedCustomer), GraphDefault);
        var first = await graph.ServicePrincipals.GetAsync(r => r.QueryParameters.Top = 3);
        Assert.NotNull(first?.OdataNextLink);
        var all = await AllPages<ServicePrincipal, ServicePrincipalCollectionResponse>(graph, first);
        Assert.True(all.Count > 3, "more than one page");
        Assert.Contains(all, sp => sp.AppId == GraphApp);

        var sp = await graph.ServicePrincipalsWithAppId(Var("EMU_IMPERSONATE_CONFIDENTIAL_ID")).GetAsync();
        Assert.Equal(Var("EMU_IMPERSONATE_CONFIDENTIAL_ID"), sp!.AppId);
        var grants = await graph.ServicePrincipals[sp.Id].Oauth2PermissionGrants.GetAsync();
        Assert.NotEmpty(grants!.Value!);
        Assert.All(grants.Value!, g =>
        {
            Assert.Equal(sp.Id, g.ClientId);
            Assert.Equal("AllPrincipals", g.ConsentType);
            Assert.False(string.IsNullOrWhiteSpace(g.Scope));
        });
        var byFilter = await graph.Oauth2PermissionGrants.GetAsync(r => r.QueryParameters.Filter = $"clientId eq '{sp.Id}'");
        Assert.Equal(grants.Value!.Select(g => g.Id).Order(), byFilter!.Value!.Select(g => g.Id).Order());
    }

    [Fact]
    public async Task EmulatorUrl_AsBaseUrl_Me_AndErrorsAsODataError()
    {
        var credential = SignedIn(Tenant, Url);
        // The SDK's own token provider sends tokens to Microsoft's Graph hosts only: to another
        // host the request goes without one, and Graph's 401 reaches the caller as an ODataError.
        var untrusting = new GraphServiceClient(credential, GraphDefault, $"{Url}/v1.0");
        var unauthenticated = await Assert.ThrowsAsync<ODataError>(() => untrusting.Me.GetAsync());
        Assert.Equal(401, unauthenticated.ResponseStatusCode);
        Assert.Equal("InvalidAuthenticationToken", unauthenticated.Error!.Code);

        // The emulator's host allowed, as for a national cloud's Graph.
        var provider = new Microsoft.Kiota.Authentication.Azure.AzureIdentityAuthenticationProvider(
            credential, [new Uri(Url).Host], scopes: GraphDefault);
        var graph = new GraphServiceClient(provider, $"{Url}/v1.0");
        var me = await graph.Me.GetAsync();
        Assert.Equal(Username, me!.UserPrincipalName);
        var organization = await graph.Organization.GetAsync();
        Assert.Equal(Tenant, Assert.Single(organization!.Value!).Id);
        var error = await Assert.ThrowsAsync<ODataError>(() =>
            graph.ServicePrincipals["00000000-0000-0000-0000-000000000000"].GetAsync());
        Assert.Equal(404, error.ResponseStatusCode);
        Assert.Equal("Request_ResourceNotFound", error.Error!.Code);
        Assert.False(string.IsNullOrEmpty(error.Error.InnerError?.RequestId), "Graph's innerError names the request");
    }

    /// <summary>A token provider for the SDK that runs `partner-token token` (the token on stdout, never in argv).</summary>
    sealed class PartnerTokenCli(string tenant) : IAccessTokenProvider
    {
        public int Runs { get; private set; }

        public AllowedHostsValidator AllowedHostsValidator { get; } = new([new Uri(Url).Host]);

        public async Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? context = null,
            CancellationToken cancellationToken = default)
        {
            if (!AllowedHostsValidator.IsUrlHostValid(uri)) return "";
            var start = new ProcessStartInfo(Var("PT_NODE"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { Var("PT_MAIN"), "token", "--tenant", tenant, "--scopes", $"{Graph}/.default",
                         "--query", "accessToken", "-o", "tsv" })
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            Runs++;
            Assert.True(process.ExitCode == 0, $"partner-token token exited {process.ExitCode}: {await stderr}");
            return (await stdout).Trim();
        }
    }

    [Fact]
    public async Task PartnerTokenCli_CustomerTenant_CustomAuthenticationProvider()
    {
        var tokens = new PartnerTokenCli(Customer);
        var graph = new GraphServiceClient(new BaseBearerTokenAuthenticationProvider(tokens), $"{Url}/v1.0");
        var organization = await graph.Organization.GetAsync();
        Assert.Equal(Customer, Assert.Single(organization!.Value!).Id);
        var first = await graph.ServicePrincipals.GetAsync(r =>
        {
            r.QueryParameters.Top = 2;
            r.QueryParameters.Select = ["id", "appId", "displayName"];
        });
        Assert.StartsWith($"{Url}/v1.0/servicePrincipals?", first!.OdataNextLink);
        var all = await AllPages<ServicePrincipal, ServicePrincipalCollectionResponse>(graph, first);
        Assert.True(all.Count > 2, "more than one page");
        var sp = Assert.Single(all, p => p.AppId == ConfidentialId);
        var grants = await graph.ServicePrincipals[sp.Id].Oauth2PermissionGrants.GetAsync();
        Assert.Contains(grants!.Value!, g => g.ClientId == sp.Id && g.Scope!.Split(' ').Contains("Directory.Read.All"));
        Assert.True(tokens.Runs >= 3, "the SDK asked the provider for a token on each request");
    }
}
