import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { escapeHtml, renderReportHtml } from "../../controller/report/report-html.js";
import { buildReport } from "../../controller/report/report.js";
import { tempDir } from "../helpers/temp.js";
import { HOSTILE, knownLedger, NOW } from "./report-fixture.js";

/** The system Chromium (GAFFER_CHROMIUM, else the usual paths); a missing browser fails saying how to install one. */
function findChromium(): string {
  const candidates = [process.env.GAFFER_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"];
  const found = candidates.find((path): path is string => path !== undefined && path !== "" && existsSync(path));
  if (found === undefined) throw new Error("no Chromium found for the HTML report check: install it (Debian/Ubuntu: sudo apt-get install chromium) or set GAFFER_CHROMIUM=/path/to/chrome");
  return found;
}

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function hostileReport() {
  const db = await knownLedger({ hostile: true });
  onTestFinished(() => db.destroy());
  return buildReport(db, { now: NOW, project: `calc ${HOSTILE}` });
}

describe("escapeHtml", () => {
  it("escapes markup, quotes and control characters", () => {
    expect(escapeHtml(HOSTILE)).toBe("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;x&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(escapeHtml("a\u0000b\u001bc\td\ne")).toBe("a\ufffdb\ufffdc\td\ne");
    expect(escapeHtml("&amp;")).toBe("&amp;amp;");
  });
});

describe("the HTML report", () => {
  it("is one self-contained page: no script, no external reference, every ledger text escaped", async () => {
    const html = renderReportHtml(await hostileReport());
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toMatch(/<script|<img|<link|@import|url\((?!#paused\))/i);
    expect(html).not.toMatch(/\s(src|href|on[a-z]+)=["']/i);
    expect(html).toContain(`data-lane="session/${escapeHtml(HOSTILE)}"`);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it("renders in headless Chromium: the timeline, bars for every session, no request leaves the page, a screenshot", async () => {
    const report = await hostileReport();
    const dir = tempDir("gaffer-report-html-");
    const file = join(dir, "report.html");
    writeFileSync(file, renderReportHtml(report));
    const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href);

    const timeline = page.locator("svg#timeline");
    expect(await timeline.count()).toBe(1);
    const box = await timeline.boundingBox();
    expect(box!.width).toBeGreaterThan(800);
    const bars = await page.$$eval("#timeline .bar", (els) => els.map((e) => ({ lane: e.getAttribute("data-lane"), state: e.getAttribute("data-state"), width: e.getBoundingClientRect().width })));
    for (const s of report.sessions) expect(bars.filter((b) => b.lane === `session/${s.id}`).length, s.id).toBeGreaterThanOrEqual(1);
    expect(new Set(bars.filter((b) => b.lane!.startsWith("session/")).map((b) => b.lane))).toEqual(new Set(report.sessions.map((s) => `session/${s.id}`)));
    expect(bars.every((b) => b.width > 0)).toBe(true);
    // s-a's first bar is its start-up; the hostile session lives entirely inside its stage's pause.
    expect(await page.locator('#timeline .bar[data-lane="session/s-a"]').first().getAttribute("data-state")).toBe("starting");
    expect(bars.filter((b) => b.lane === `session/${HOSTILE}`).map((b) => b.state)).toEqual(["paused"]);
    expect(await page.locator('#timeline .bar[data-lane="session/s-a"][data-state="paused"] title').textContent()).toBe(
      "session/s-a: paused\nstart 2030-01-01T00:00:21.000Z (+21.0 s)\nduration 3.5 s",
    );
    expect(await page.locator("#legend .legend-item").evaluateAll((els) => els.map((e) => e.getAttribute("data-state")))).toContain("AwaitingApproval");
    expect(await page.locator("#bottlenecks tbody tr").count()).toBe(5);
    expect(await page.locator("#sessions tbody tr").count()).toBe(report.sessions.length);

    // The hostile texts stayed text.
    expect(await page.title()).toBe(`gaffer report: calc ${HOSTILE}`);
    expect(await page.locator("img, script").count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.filter((url) => !url.startsWith("file:"))).toEqual([]);

    const png = join(dir, "report.png");
    await page.screenshot({ path: png, fullPage: true });
    expect(existsSync(png)).toBe(true);
    expect(readFileSync(png).subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(statSync(png).size).toBeGreaterThan(30_000);
    // To look at it: GAFFER_REPORT_SCREENSHOT=/some/file.png npx vitest run test/report/report-html.test.ts
    if (process.env.GAFFER_REPORT_SCREENSHOT !== undefined) copyFileSync(png, process.env.GAFFER_REPORT_SCREENSHOT);
  });
});
