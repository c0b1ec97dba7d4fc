/** The HTML the emulator shows a person: sign-in, MFA, device login, errors, form_post. */
import { escapeHtml as h } from "./http.ts";

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title>
<style>
body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0;display:flex;justify-content:center}
main{background:#fff;margin-top:8vh;padding:44px;width:100%;max-width:440px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 16px}label{display:block;margin-top:12px;font-size:14px}
input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:6px 0;border:0;border-bottom:1px solid #666;font-size:15px}
.row{margin-top:24px;display:flex;gap:8px;justify-content:flex-end}
button{padding:6px 18px;font-size:15px;border:0;background:#0067b8;color:#fff;cursor:pointer}
button.secondary{background:#ccc;color:#000}.error{color:#e81123;font-size:14px;margin-top:12px}
.note{font-size:12px;color:#666;margin-top:24px}code{word-break:break-all}
</style></head><body><main>
<div class="note">partner-token emulator — not Microsoft</div>
${body}
</main></body></html>`;
}

export interface SignInFields {
  action: string;
  flow: string;
  appName: string;
  username?: string;
  error?: string;
  /** Device flow: offer a Deny button too. */
  device?: boolean;
}

export function signInPage(f: SignInFields): string {
  return page(
    "Sign in to your account",
    `<h1>Sign in</h1>
<p>to continue to <b>${h(f.appName)}</b></p>
<form method="post" action="${h(f.action)}">
<input type="hidden" name="flow" value="${h(f.flow)}">
<label for="username">Email, phone, or Skype</label>
<input type="email" id="username" name="username" autocomplete="username" value="${h(f.username ?? "")}" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
${f.error ? `<div class="error" role="alert">${h(f.error)}</div>` : ""}
<div class="row">${f.device ? `<button type="submit" name="decision" value="deny" class="secondary" id="deny" formnovalidate>Deny</button>` : ""}<button type="submit" name="decision" value="allow" id="idSIButton9">Sign in</button></div>
</form>`,
  );
}

export function mfaPage(action: string, flow: string, username: string, error?: string): string {
  return page(
    "Verify your identity",
    `<h1>Enter code</h1>
<p>${h(username)} requires multi-factor authentication. Enter the six-digit code from your authenticator app.</p>
<form method="post" action="${h(action)}">
<input type="hidden" name="flow" value="${h(flow)}">
<label for="otc">Code</label>
<input type="text" id="otc" name="otc" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
${error ? `<div class="error" role="alert">${h(error)}</div>` : ""}
<div class="row"><button type="submit" id="idSubmit_SAOTCC_Continue">Verify</button></div>
</form>`,
  );
}

export function errorPage(code: number, message: string, correlationId: string): string {
  return page(
    "Sign in error",
    `<h1>Sorry, but we're having trouble signing you in.</h1>
<p class="error" id="error-code">AADSTS${code}: ${h(message)}</p>
<p class="note">Correlation ID: ${h(correlationId)}</p>`,
  );
}

/** response_mode=form_post: a page that posts the response to the redirect URI. */
export function formPostPage(redirectUri: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${h(k)}" value="${h(v)}">`)
    .join("");
  return `<!doctype html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">
<form method="POST" name="hiddenform" action="${h(redirectUri)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript></form></body></html>`;
}

export function deviceCodePage(action: string, error?: string): string {
  return page(
    "Enter code",
    `<h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
<form method="post" action="${h(action)}">
<label for="otc">Code</label>
<input type="text" id="otc" name="user_code" autocomplete="off" required>
${error ? `<div class="error" role="alert">${h(error)}</div>` : ""}
<div class="row"><button type="submit" id="idSIButton9">Next</button></div>
</form>`,
  );
}

export function deviceDonePage(appName: string, approved: boolean): string {
  return approved
    ? page(
        "Signed in",
        `<h1>${h(appName)}</h1><p id="done">You have signed in to the ${h(appName)} application on your device. You may now close this window.</p>`,
      )
    : page(
        "Declined",
        `<h1>${h(appName)}</h1><p id="done">You declined the sign-in on your device. You may now close this window.</p>`,
      );
}
