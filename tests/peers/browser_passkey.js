// browser_passkey.js - a real browser through the portal (issue 12):
// Debian's Chromium driven by playwright-core, passkeys through the
// DevTools virtual authenticator (WebAuthn domain). Run by
// tests/integration/test_auth_browser.py inside the test's namespace:
//   node browser_passkey.js CONFIG.json
// CONFIG: {hub, app, addr, token, user, password, shots}. Prints one JSON
// line of what it saw; screenshots of each portal page go to `shots`.
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const HUB = `https://${cfg.hub}`;
const seen = { steps: [] };

// RFC 6238 by the reference implementation, `offset` seconds from now.
function oathtool(secret, offset) {
  const when = new Date(Date.now() + offset * 1000).toISOString()
    .replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return execFileSync("oathtool", ["--totp", "-b", secret, "--now", when]).toString().trim();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(cfg.shots, `${name}.png`), fullPage: true });
  seen.steps.push({ name, url: page.url() });
}

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

// Logs out when logged in (enrolling a factor already ended the session).
async function logout(page) {
  await page.goto(`${HUB}/login`);
  if (await page.locator("form[action='/logout'] button").count())
    await submit(page, "form[action='/logout'] button");
  await page.goto(`${HUB}/login`);
  seen.logged_out = (seen.logged_out || 0) + (await page.locator("#u").count());
}

async function main() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox",
      // The names resolve to the hub's listener in this namespace; the
      // page's origin stays https://hub.test, which the hub checks.
      `--host-resolver-rules=MAP ${cfg.hub} ${cfg.addr}, MAP ${cfg.app} ${cfg.addr}`,
      "--ignore-certificate-errors"],
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(m.text()));
  try {
    // The setup link: the token rides in the fragment.
    await page.goto(`${HUB}/setup#token=${cfg.token}`);
    seen.setup_token_filled = (await page.inputValue("#t")) === cfg.token;
    await shot(page, "01-setup");
    await page.fill("#p", cfg.password);
    await page.fill("#p2", cfg.password);
    await submit(page, "button[type=submit]");
    // Log in with the new password, then enrol TOTP.
    await page.fill("#u", cfg.user);
    await page.fill("#p", cfg.password);
    await shot(page, "02-login");
    await submit(page, "form[action='/login']:not(#pk-login) button");
    await page.goto(`${HUB}/totp`);
    const secret = (await page.textContent("#secret")).trim();
    await shot(page, "03-totp-enrol");
    await page.fill("#c", oathtool(secret, 0));
    await submit(page, "form[action='/totp'] button");
    seen.recovery_codes = await page.locator("#recovery li").count();
    await shot(page, "04-recovery-codes");
    await logout(page);
    // Password + TOTP (the next step's code: this step's was spent).
    await page.goto(`${HUB}/login`);
    await page.fill("#u", cfg.user);
    await page.fill("#p", cfg.password);
    await submit(page, "form[action='/login']:not(#pk-login) button");
    await shot(page, "05-totp-code");
    await page.fill("#c", oathtool(secret, 30));
    await submit(page, "form[action='/login/totp'] button");
    seen.after_totp = (await page.textContent("main")).includes("You are logged in");
    // A passkey, made by the browser's virtual authenticator.
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true,
                 hasUserVerification: true, isUserVerified: true } });
    await page.goto(`${HUB}/passkeys`);
    await page.fill("#n", "virtual");
    await Promise.all([page.waitForSelector("#passkeys li"), page.click("#pk-add-button")]);
    seen.passkeys_listed = await page.locator("#passkeys li").allTextContents();
    await shot(page, "06-passkeys");
    const creds = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    seen.credentials = creds.credentials.map((c) => ({ resident: c.isResidentCredential,
                                                        count: c.signCount }));
    await logout(page);
    // The protected route: the portal, the passkey alone, the app.
    await page.goto(`https://${cfg.app}/hello?x=1`);
    seen.portal_url = page.url();
    await shot(page, "07-portal-for-route");
    await Promise.all([page.waitForURL(`https://${cfg.app}/**`), page.click("#pk-button")]);
    await page.waitForLoadState("load");
    seen.app_url = page.url();
    seen.app_body = await page.textContent("body");
    await shot(page, "08-app");
    const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    seen.sign_count_after = after.credentials.map((c) => c.signCount);
  } catch (e) {
    seen.error = String(e && e.stack ? e.stack : e);
    seen.error_url = page.url();
    seen.error_body = (await page.content().catch(() => "")).slice(0, 2000);
    await page.screenshot({ path: path.join(cfg.shots, "error.png") }).catch(() => {});
  }
  seen.console = consoleLines;
  await browser.close();
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e) }) + "\n"); });
