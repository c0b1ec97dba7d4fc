/** The flag parser: GNU and PowerShell spellings fold to the same flags. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseArgs, type FlagSpec } from "../../src/cli/args.ts";
import { UsageError } from "../../src/client/errors.ts";

const specs: FlagSpec[] = [
  { name: "application-id", aliases: ["client-id", "ClientId"], kind: "string", help: "" },
  { name: "scopes", kind: "list", help: "" },
  { name: "tenant", aliases: ["tenant-id", "domain"], kind: "string", help: "" },
  { name: "service-principal", kind: "boolean", help: "" },
  {
    name: "use-device-authentication",
    aliases: ["device-code", "device"],
    kind: "boolean",
    help: "",
  },
  { name: "credential", aliases: ["client-secret"], kind: "source", help: "" },
  { name: "credential-user", kind: "string", help: "" },
  { name: "output", short: "o", kind: "string", help: "" },
];

const parse = (...argv: string[]) => Object.fromEntries(parseArgs(argv, specs).values);

describe("flag parser", () => {
  it("reads GNU style, with = and repeated or several list values", () => {
    assert.deepEqual(
      parse(
        "--client-id=app",
        "--scopes",
        "a",
        "b c",
        "--scopes",
        "d",
        "--service-principal",
        "-o",
        "tsv",
      ),
      {
        "application-id": "app",
        scopes: ["a", "b", "c", "d"],
        "service-principal": true,
        output: "tsv",
      },
    );
  });

  it("reads PowerShell style: any case, aliases, comma lists, -Switch:$true", () => {
    assert.deepEqual(
      parse(
        "-ClientId",
        "app",
        "-SCOPES",
        "a,b",
        "-TenantId",
        "t",
        "-ServicePrincipal:$true",
        "-DeviceCode:$false",
      ),
      {
        "application-id": "app",
        scopes: ["a", "b"],
        tenant: "t",
        "service-principal": true,
        "use-device-authentication": false,
      },
    );
    assert.deepEqual(parse("-applicationid", "x", "-Domain", "d"), {
      "application-id": "x",
      tenant: "d",
    });
  });

  it("accepts a unique PowerShell prefix and refuses an ambiguous one", () => {
    assert.deepEqual(parse("-Serv"), { "service-principal": true });
    assert.throws(() => parse("-Cred", "env:X"), /ambiguous.*--credential.*--credential-user/);
  });

  it("explains '-Switch:' left empty by a POSIX shell expanding $true", () => {
    assert.throws(
      () => parse("-ServicePrincipal:"),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, /\$true and \$false expand to nothing/);
        return true;
      },
    );
  });

  it("takes a source value, '-' for stdin, or none before the next flag", () => {
    assert.deepEqual(parse("--credential", "-", "-o", "json").credential, { source: "-" });
    assert.deepEqual(parse("--credential", "--service-principal").credential, {
      source: undefined,
    });
    assert.deepEqual(parse("-Credential:env:S").credential, { source: "env:S" });
  });

  it("refuses unknown flags and missing values", () => {
    assert.throws(() => parse("--nope"), /unknown option '--nope'/);
    assert.throws(() => parse("--tenant"), /'--tenant' needs a value/);
    assert.throws(() => parse("--tenant", "--service-principal"), /'--tenant' needs a value/);
    assert.throws(() => parse("--scopes", "--service-principal"), /needs at least one value/);
  });
});
