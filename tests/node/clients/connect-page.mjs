// A person at the gateway's connect page, in headless Chromium (Playwright, Debian's chromium): signs in with their
// personal token of the gateway, then per action:
//   connect    — follows the Connect (or Reconnect) link of the server to its authorization server (an Edge with
//                the built-in one), signs in there with their upstream token and allows, and comes back;
//   disconnect — presses Disconnect.
// Prints what the page said as JSON.
// Usage: GATEWAY_TOKEN=archestra_... UPSTREAM_TOKEN=archestra_... node connect-page.mjs <connect-page-url> <chromium-path> <server> <action>
import { chromium } from "playwright-core";

const [pageUrl, chromiumPath, server, action] = process.argv.slice(2);
setTimeout(() => { console.error("connect-page: timed out"); process.exit(3); }, 60_000).unref();
const report = {};

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  report.signInTitle = await page.textContent("h1");
  await page.fill("input[name=token]", process.env.GATEWAY_TOKEN);
  await Promise.all([page.waitForURL(/\/connect\?/), page.click("button[type=submit]")]);
  report.listTitle = await page.textContent("h1");
  const row = page.locator(`tr[data-server="${server}"]`);
  report.before = (await row.locator("td.state").textContent()).trim();
  report.wanted = (await row.getAttribute("class")) === "wanted";

  if (action === "connect") {
    await Promise.all([page.waitForURL(/\/oauth\/authorize/), row.locator("a.button").click()]);
    report.authorizationUrl = page.url();
    report.consentTitle = await page.textContent("h1");
    await page.fill("input[name=token]", process.env.UPSTREAM_TOKEN);
    await Promise.all([page.waitForURL(/\/connect\?connected=/), page.click("button[value=approve]")]);
  } else if (action === "disconnect") {
    await Promise.all([page.waitForURL(/\/connect\?disconnected=/), row.locator("button", { hasText: "Disconnect" }).click()]);
  }

  report.finalUrl = page.url();
  report.notice = await page.locator(".notice").textContent().catch(() => null);
  report.problem = await page.locator(".error").first().textContent({ timeout: 500 }).catch(() => null);
  report.after = (await page.locator(`tr[data-server="${server}"] td.state`).textContent()).trim();
  report.html = await page.content();
} finally {
  await browser.close();
}

console.log(JSON.stringify(report));
