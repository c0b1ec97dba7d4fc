/** `app create --permission`: the values as the parser splits them at commas. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePermissions } from "../../src/cli/commands/app.ts";

test("RESOURCE=Name starts a resource, bare names add to it; aliases graph and partnercenter", () => {
  assert.deepEqual(
    parsePermissions(["graph=User.Read.All", "Group.Read.All", "partnercenter=user_impersonation"]),
    [
      {
        resourceAppId: "00000003-0000-0000-c000-000000000000",
        scopes: ["User.Read.All", "Group.Read.All"],
      },
      { resourceAppId: "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", scopes: ["user_impersonation"] },
    ],
  );
  assert.deepEqual(parsePermissions(["797F4846-BA00-4FD7-BA43-DAC1F8F63013=user_impersonation"]), [
    { resourceAppId: "797f4846-ba00-4fd7-ba43-dac1f8f63013", scopes: ["user_impersonation"] },
  ]);
});

test("bad values are usage errors naming what is wrong", () => {
  assert.throws(() => parsePermissions(["User.Read"]), /write RESOURCE=Name,Name/);
  assert.throws(
    () => parsePermissions(["outlook=Mail.Read"]),
    /'outlook' is not an application id/,
  );
  assert.throws(() => parsePermissions(["graph="]), /no permission name after 'graph='/);
  assert.throws(
    () => parsePermissions(["graph"]),
    (e: Error & { exitCode?: number }) => e.exitCode === 2,
  );
});
