// A tour of the gateway's web console in headless Chromium (Playwright, Debian's chromium), as an administrator
// (ORG_TOKEN) and as a user of one team (USER_TOKEN): signs in, opens every page, waits for the live servers table
// to update over server-sent events, copies a snippet, and takes a screenshot of each page. Prints what it saw as JSON
// (statuses and the HTML of every page, for the test to search for secrets).
// Usage: ORG_TOKEN=… USER_TOKEN=… node console-tour.mjs <base-url> <chromium-path> <screenshot-dir> <org-profile> <user-profile>
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, chromiumPath, shots, orgProfile, userProfile] = process.argv.slice(2);
setTimeout(() => { console.error("console-tour: timed out"); process.exit(3); }, 90_000).unref();
mkdirSync(shots, { recursive: true });
const report = { pages: {}, user: {} };

async function signIn(page, token) {
  await page.goto(`${base}/console`);
  report.signInUrl ??= page.url();
  await page.fill("input[name=token]", token);
  await Promise.all([page.waitForURL(/\/console\/profiles/), page.click("button[type=submit]")]);
}

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
try {
  const admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await admin.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await admin.newPage();
  const errors = [];
  page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
  await signIn(page, process.env.ORG_TOKEN);
  report.profiles = await page.$$eval("tr[data-profile]", (rows) => rows.map((r) => r.dataset.profile));
  report.pages.profiles = await page.content();
  await page.screenshot({ path: join(shots, "profiles.png"), fullPage: true });

  await page.goto(`${base}/console/profiles/${orgProfile}?list=1`);
  report.items = await page.$$eval("tr[data-item]", (rows) => rows.map((r) => r.dataset.item));
  const copy = page.locator("button[data-copy]").first();
  await copy.click();
  report.copied = await page.evaluate(() => navigator.clipboard.readText()).catch(() => null);
  report.copyLabel = await copy.textContent();
  report.pages.profile = await page.content();
  await page.screenshot({ path: join(shots, "profile.png"), fullPage: true });

  await page.goto(`${base}/console/servers`);
  await page.waitForSelector(".live.on", { timeout: 10_000 });
  await page.waitForFunction(() => Number(document.body.dataset.updates ?? "0") >= 1, null, { timeout: 10_000 });
  report.liveUpdates = await page.evaluate(() => Number(document.body.dataset.updates));
  report.serverStates = await page.$$eval("tr[data-server] .state", (cells) => cells.map((c) => c.textContent));
  report.pages.servers = await page.content();
  await page.screenshot({ path: join(shots, "servers.png"), fullPage: true });

  await page.goto(`${base}/console/activity`);
  report.calls = await page.locator("tr[data-call]").count();
  report.charts = await page.$$eval("[data-chart-server]", (charts) => charts.map((c) => c.dataset.chartServer));
  report.pages.activity = await page.content();
  await page.screenshot({ path: join(shots, "activity.png"), fullPage: true });
  await page.selectOption("select[name=server]", "local");
  await page.selectOption("select[name=outcome]", "ok");
  await Promise.all([page.waitForURL(/server=local/), page.click("form.filters button[type=submit]")]);
  report.filteredCalls = await page.locator("tr[data-call]").count();
  await page.goto(`${base}/console/activity?principal=user%3Anobody`);
  report.nobodysCalls = await page.locator("tr[data-call]").count();

  await page.goto(`${base}/console/config?q=memory`);
  report.fingerprint = await page.textContent("[data-fingerprint]");
  report.entries = await page.$$eval("[data-entry]", (entries) => entries.map((e) => e.dataset.entry));
  report.pages.config = await page.content();
  await page.screenshot({ path: join(shots, "config.png"), fullPage: true });
  report.scriptErrors = errors;

  // A user of one team: their profile only, nothing else, and no configuration.
  const user = await browser.newContext();
  const userPage = await user.newPage();
  await signIn(userPage, process.env.USER_TOKEN);
  report.user.profiles = await userPage.$$eval("tr[data-profile]", (rows) => rows.map((r) => r.dataset.profile));
  report.user.nav = await userPage.$$eval("header nav a", (links) => links.map((a) => a.textContent));
  for (const [name, path] of [["other", `/console/profiles/${orgProfile}`], ["own", `/console/profiles/${userProfile}`], ["config", "/console/config"], ["servers", "/console/servers"], ["activity", "/console/activity"]]) {
    const response = await userPage.goto(`${base}${path}`);
    report.user[name] = response.status();
    report.pages[`user-${name}`] = await userPage.content();
  }
} finally {
  await browser.close();
}

console.log(JSON.stringify(report));
