/**
 * `GET /v1/customers`: every customer of the partner, through every page (Partner Center's
 * continuation token, sent back as the `MS-ContinuationToken` header).
 */
import { PartnerCenterError, type PartnerCenterClient } from "./client.ts";

/** A customer, with what the bulk job and a person need. */
export interface Customer {
  /** The customer's Entra tenant id (also its Partner Center customer id). */
  tenantId: string;
  /** Its default domain, e.g. `fabrikam.onmicrosoft.com`. */
  domain: string | null;
  /** The company name. */
  name: string | null;
  /** `reseller`, `advisor`, … */
  relationship: string | null;
}

interface CustomersPage {
  items?: unknown[];
  continuationToken?: unknown;
  links?: { next?: { headers?: { key?: unknown; value?: unknown }[] } };
}

/**
 * Every customer, page after page, as they arrive (constant memory for any number).
 *
 * @example
 * ```ts
 * for await (const customer of listCustomers(pc)) console.log(customer.tenantId, customer.domain);
 * ```
 * @throws {PartnerCenterError} when a page is refused (after retries).
 */
export async function* listCustomers(
  client: PartnerCenterClient,
  options: { pageSize?: number } = {},
): AsyncGenerator<Customer> {
  const size = options.pageSize ?? 500;
  let continuation: string | undefined;
  const seen = new Set<string>();
  do {
    const { body, status, correlationId, requestId } = await client.request<CustomersPage>({
      path: `/v1/customers?size=${size}`,
      ...(continuation ? { headers: { "ms-continuationtoken": continuation } } : {}),
    });
    if (!body || !Array.isArray(body.items))
      throw new PartnerCenterError("Partner Center's customer page holds no items.", {
        status,
        correlationId,
        requestId,
      });
    for (const item of body.items) yield customerOf(item);
    const next = nextToken(body);
    // A server that hands back the same token would loop for ever.
    if (next !== undefined && seen.has(next))
      throw new PartnerCenterError("Partner Center repeated a continuation token.", {
        status,
        correlationId,
        requestId,
      });
    if (next !== undefined) seen.add(next);
    continuation = next;
  } while (continuation !== undefined);
}

function nextToken(page: CustomersPage): string | undefined {
  if (typeof page.continuationToken === "string" && page.continuationToken !== "")
    return page.continuationToken;
  const header = page.links?.next?.headers?.find(
    (h) => typeof h.key === "string" && h.key.toLowerCase() === "ms-continuationtoken",
  );
  return typeof header?.value === "string" && header.value !== "" ? header.value : undefined;
}

function customerOf(item: unknown): Customer {
  const c = (item ?? {}) as Record<string, any>;
  const profile = (c["companyProfile"] ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  const tenantId = text(profile["tenantId"]) ?? text(c["id"]);
  if (!tenantId)
    throw new PartnerCenterError("A customer in Partner Center's answer has no tenant id.", {
      status: 200,
    });
  return {
    tenantId,
    domain: text(profile["domain"]),
    name: text(profile["companyName"]),
    relationship: text(c["relationshipToPartner"]),
  };
}
