"""Microsoft's MSAL for Python, unmodified, against the emulator: one sign-in flow per name.

Reads its configuration as JSON on stdin (secrets never on the command line), runs the flows
named in it, and prints one JSON object on stdout: for each flow, MSAL's answer (or the
exception it raised). The caller checks the tokens. TLS trust comes from REQUESTS_CA_BUNDLE.
"""
import json
import sys
import urllib.parse

import msal
import requests

GRAPH = "https://graph.microsoft.com"
PARTNER_CENTER = "https://api.partnercenter.microsoft.com/user_impersonation"


def confidential(config, credential):
    return msal.ConfidentialClientApplication(
        credential["client_id"],
        client_credential=credential["credential"],
        authority="%s/%s" % (config["authority_host"], config["tenant"]),
        validate_authority=config["validate_authority"],
    )


def public(config):
    return msal.PublicClientApplication(
        config["public_client_id"],
        authority="%s/organizations" % config["authority_host"],
        validate_authority=config["validate_authority"],
    )


def secret(config):
    app = confidential(config, {
        "client_id": config["confidential"]["client_id"],
        "credential": config["confidential"]["secret"],
    })
    return app.acquire_token_for_client([GRAPH + "/.default"])


def certificate(config, chain):
    cert = config["certificate"]
    credential = {
        "private_key": open(cert["key_file"]).read(),
        "thumbprint": cert["thumbprint"],
    }
    if chain:
        # MSAL sends the chain in the assertion's x5c header (subject name / issuer auth).
        credential["public_certificate"] = open(cert["cert_file"]).read()
    app = confidential(config, {"client_id": cert["client_id"], "credential": credential})
    return app.acquire_token_for_client([GRAPH + "/.default"])


def device_code(config):
    """Device code, then silent renewal and a refresh-token redemption with the same app."""
    app = public(config)
    flow = app.initiate_device_flow(scopes=[PARTNER_CENTER])
    if "user_code" not in flow:
        return {"flow": flow}
    sys.stderr.write(flow["message"] + "\n")
    first = app.acquire_token_by_device_flow(flow)
    accounts = app.get_accounts()
    silent = (
        app.acquire_token_silent([GRAPH + "/User.Read"], account=accounts[0])
        if accounts
        else {"error": "no account cached"}
    )
    forced = (
        app.acquire_token_silent([PARTNER_CENTER], account=accounts[0], force_refresh=True)
        if accounts
        else {"error": "no account cached"}
    )
    refreshed = app.acquire_token_by_refresh_token(
        first.get("refresh_token", ""), scopes=[GRAPH + "/Directory.Read.All"]
    )
    return {"first": first, "silent": silent, "forced": forced, "refreshed": refreshed}


def authorization_code(config):
    app = confidential(config, {
        "client_id": config["confidential"]["client_id"],
        "credential": config["confidential"]["secret"],
    })
    flow = app.initiate_auth_code_flow([GRAPH + "/User.Read"], redirect_uri=config["redirect_uri"])
    # The emulator runs with --auto-approve: the authorize URL redirects straight back.
    answer = requests.get(flow["auth_uri"], allow_redirects=False)
    if answer.status_code != 302:
        return {"error": "authorize answered %d" % answer.status_code, "body": answer.text[:500]}
    query = urllib.parse.urlparse(answer.headers["location"]).query
    auth_response = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
    return app.acquire_token_by_auth_code_flow(flow, auth_response)


def password(config):
    app = public(config)
    user = config["user"]
    return app.acquire_token_by_username_password(
        user["username"], user["password"], scopes=[PARTNER_CENTER]
    )


FLOWS = {
    "secret": secret,
    "certificate": lambda c: certificate(c, False),
    "certificate_chain": lambda c: certificate(c, True),
    "device_code": device_code,
    "authorization_code": authorization_code,
    "password": password,
}


def main():
    config = json.load(sys.stdin)
    out = {}
    for name in config["flows"]:
        try:
            out[name] = FLOWS[name](config)
        except Exception as e:  # reported to the test, which fails with it
            out[name] = {"exception": "%s: %s" % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
