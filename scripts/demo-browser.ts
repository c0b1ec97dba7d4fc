// A stand-in "browser" for the demo (given as BROWSER): opens the sign-in address and follows
// redirects. With the emulator's --auto-approve, that is the whole sign-in: authorize answers
// with a redirect to partner-token's loopback listener, which shows its "Authentication
// complete" page. It trusts the emulator through NODE_EXTRA_CA_CERTS, like any Node program.
const url = process.argv[process.argv.length - 1]!;
const res = await fetch(url);
process.stderr.write(
  `  (browser) ${res.status} ${(await res.text()).match(/Authentication \w+/)?.[0] ?? ""}\n`,
);
