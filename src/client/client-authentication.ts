/**
 * How the app proves who it is at the token endpoint: nothing (public client), its secret in the
 * body (`client_secret_post`, as Entra ID expects), or a signed client assertion.
 */
import * as oauth from "oauth4webapi";
import { UsageError } from "./errors.ts";
import type { FlowRequest } from "./types.ts";

/** The oauth4webapi client authentication for a request; loads the certificate once. */
export async function clientAuthenticationFor(
  request: FlowRequest,
): Promise<{ auth: oauth.ClientAuth; confidential: boolean }> {
  if (request.clientSecret !== undefined && request.certificate !== undefined) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "Give either a client secret or a certificate, not both.",
    );
  }
  if (request.clientSecret !== undefined) {
    if (request.clientSecret === "")
      throw new UsageError("ERR_INVALID_ARGUMENT", "The client secret is empty.");
    return { auth: oauth.ClientSecretPost(request.clientSecret), confidential: true };
  }
  if (request.certificate !== undefined) {
    // Certificate loading and signing are only loaded for the apps that use them.
    const [{ loadCertificate }, { CLIENT_ASSERTION_TYPE, createClientAssertion }] =
      await Promise.all([import("./certificates.ts"), import("./client-assertion.ts")]);
    const certificate = await loadCertificate(request.certificate);
    const algorithm = request.certificate.assertionAlgorithm;
    // Signed per request: each assertion needs its own jti and a fresh lifetime.
    const auth: oauth.ClientAuth = async (as, client, body) => {
      const assertion = await createClientAssertion({
        clientId: client.client_id,
        audience: as.token_endpoint!,
        certificate,
        ...(algorithm ? { algorithm } : {}),
      });
      body.set("client_id", client.client_id);
      body.set("client_assertion_type", CLIENT_ASSERTION_TYPE);
      body.set("client_assertion", assertion);
    };
    return { auth, confidential: true };
  }
  return { auth: oauth.None(), confidential: false };
}
