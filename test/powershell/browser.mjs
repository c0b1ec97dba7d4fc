// The "browser" the PowerShell tests give as BROWSER (run by node, trusting the emulator through
// NODE_EXTRA_CA_CERTS). partner-token starts it with the sign-in address while its own sign-in
// waits, so this is also where the tests read the partner-token process's command line: it is
// saved to $PT_TEST_CMDLINES/<pid>.txt, and the tests check that no secret is in it.
// Then it follows the emulator's auto-approved redirects (and its forms) to the loopback page.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

if (process.env.PT_TEST_CMDLINES) {
  const cmdline = readFileSync(`/proc/${process.ppid}/cmdline`, "utf8").split("\0").join(" ");
  writeFileSync(join(process.env.PT_TEST_CMDLINES, `${process.ppid}.txt`), cmdline, {
    mode: 0o600,
  });
}
let url = process.argv[process.argv.length - 1];
let init = {};
const jar = new Map(); // name → value, per host
for (let hop = 0; hop < 20; hop++) {
  const host = new URL(url).host;
  const cookie = [...jar]
    .filter(([k]) => k.startsWith(host + " "))
    .map(([k, v]) => k.slice(host.length + 1) + "=" + v)
    .join("; ");
  const res = await fetch(url, { ...init, redirect: "manual", headers: cookie ? { cookie } : {} });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    jar.set(host + " " + pair.slice(0, i), pair.slice(i + 1));
  }
  const location = res.headers.get("location");
  if (location) {
    url = new URL(location, url).href;
    init = {};
    continue;
  }
  const body = await res.text();
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(body);
  if (form && !url.startsWith("http://localhost")) {
    const fields = new URLSearchParams();
    for (const m of body.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi))
      fields.append(m[1], m[2].replace(/&amp;/g, "&").replace(/&quot;/g, '"'));
    url = new URL(form[1].replace(/&amp;/g, "&"), url).href;
    init = { method: "POST", body: fields };
    continue;
  }
  process.exit(res.ok ? 0 : 1);
}
process.exit(1);
