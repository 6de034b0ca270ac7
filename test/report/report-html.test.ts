import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { escapeHtml, renderReportHtml } from "../../controller/report/report-html.js";
import { buildReport } from "../../controller/report/report.js";
import type { Report } from "../../controller/report/report-model.js";
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

/** The report written to a file and opened in headless Chromium at `width` px; requests and dialogs recorded. */
async function openPage(report: Report, width: number) {
  const dir = tempDir("gaffer-report-html-");
  const file = join(dir, "report.html");
  writeFileSync(file, renderReportHtml(report));
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  onTestFinished(() => browser.close());
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  return { page, requests, dialogs, dir };
}

/** A full-page PNG; to look at them: GAFFER_REPORT_SCREENSHOT=/some/dir npx vitest run test/report/report-html.test.ts */
async function screenshot(page: Page, dir: string, width: number): Promise<string> {
  const png = join(dir, `report-${width}.png`);
  await page.screenshot({ path: png, fullPage: true });
  expect(readFileSync(png).subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  const keep = process.env.GAFFER_REPORT_SCREENSHOT;
  if (keep !== undefined) {
    copyFileSync(png, join(keep, `report-${width}.png`));
    await page.locator("#legend").screenshot({ path: join(keep, `report-${width}-legend.png`) });
    await page.locator(".timeline").screenshot({ path: join(keep, `report-${width}-timeline.png`) });
  }
  return png;
}

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
    const { page, requests, dialogs, dir } = await openPage(report, 1400);

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
    expect(await page.locator("#bottlenecks tbody tr").count()).toBe(4);
    expect(await page.locator("#work tbody tr").count()).toBe(1);
    expect(await page.locator("#sessions tbody tr").count()).toBe(report.sessions.length);

    // The hostile texts stayed text.
    expect(await page.title()).toBe(`gaffer report: calc ${HOSTILE}`);
    expect(await page.locator("img, script").count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.filter((url) => !url.startsWith("file:"))).toEqual([]);

    const png = await screenshot(page, dir, 1400);
    expect(statSync(png).size).toBeGreaterThan(30_000);
  });

  it("draws every gate run under its task with its result, as work", async () => {
    const report = await hostileReport();
    const { page } = await openPage(report, 1400);
    const runs = await page.$$eval("#timeline .gate-run", (els) => els.map((e) => ({ task: e.getAttribute("data-task"), result: e.getAttribute("data-result"), kind: e.getAttribute("data-kind"), fill: e.getAttribute("fill"), width: e.getBoundingClientRect().width, tip: e.querySelector("title")!.textContent })));
    expect(runs.map((r) => [r.task, r.result, r.kind])).toEqual([["a", "failed", "command"], ["a", "passed", "command"], ["b", "passed", "review"], ["c", "running", "command"]]);
    expect(runs.every((r) => r.width > 0)).toBe(true);
    expect(new Set(runs.map((r) => r.fill)).size).toBe(3);
    expect(runs[0]!.tip).toBe("gate run of task a, attempt 1: `npm test` failed, exit 1\nstart 2030-01-01T00:00:26.000Z (+26.0 s)\nduration 2.0 s (work, not time lost)");
    // Each run sits in its task's gate row, right under the task's lane.
    const rowOf = async (selector: string) => (await page.locator(selector).first().boundingBox())!.y;
    expect(await rowOf('#timeline .gate-runs[data-task="a"] rect')).toBeGreaterThan(await rowOf('#timeline .bar[data-lane="task/a"]'));
    expect(await rowOf('#timeline .gate-runs[data-task="a"] rect')).toBeLessThan(await rowOf('#timeline .bar[data-lane="task/b"]'));
    // Gate time is work: its own table, not among the losses.
    expect(await page.locator("#work tbody tr td:nth-child(2)").textContent()).toBe("gate time");
    expect(await page.locator("#bottlenecks").textContent()).not.toContain("gate time");
  });

  it("has a legend grouped by stage, task, session and gate run: a distinct colour and a text label per state, the bars' colours", async () => {
    const report = await hostileReport();
    const { page } = await openPage(report, 1400);
    const items = await page.$$eval("#legend .legend-item", (els) => els.map((e) => ({ group: e.getAttribute("data-group")!, state: e.getAttribute("data-state")!, fill: e.getAttribute("data-fill")!, text: e.textContent!.trim(), swatch: ((css) => `${css.backgroundImage} ${css.backgroundColor}`)(e.ownerDocument.defaultView!.getComputedStyle(e.querySelector(".swatch")!)) })));
    expect([...new Set(items.map((i) => i.group))]).toEqual(["stage", "task", "session", "gate"]);
    expect(await page.locator("#legend .legend-title").allTextContents()).toEqual(["Stages", "Tasks", "Sessions", "Gate runs (work)"]);
    for (const group of ["stage", "task", "session", "gate"]) {
      const inGroup = items.filter((i) => i.group === group);
      expect(new Set(inGroup.map((i) => i.fill)).size, group).toBe(inGroup.length);
      expect(new Set(inGroup.map((i) => i.swatch)).size, group).toBe(inGroup.length);
      for (const i of inGroup) expect(i.text, `${group} ${i.state}`).toContain(i.state);
    }
    expect(items.find((i) => i.group === "stage" && i.state === "AwaitingApproval")!.text).toBe("AwaitingApproval wait");
    expect(items.find((i) => i.group === "task" && i.state === "Gating")!.text).toBe("Gating work");
    // Every bar wears its group's legend colour, and every state on a bar is in the legend.
    const bars = await page.$$eval("#timeline .bar", (els) => els.map((e) => ({ group: e.getAttribute("data-lane")!.split("/")[0]!, state: e.getAttribute("data-state")!, fill: e.getAttribute("fill")! })));
    for (const b of bars) expect(items.find((i) => i.group === b.group && i.state === b.state)?.fill, `${b.group} ${b.state}`).toBe(b.fill);
    // Names on the bars read on their colour: white on dark fills, black on light ones.
    const labels = await page.$$eval("#timeline text.bar-label", (els) => els.map((e) => ({ dark: e.classList.contains("on-dark"), fill: e.ownerDocument.defaultView!.getComputedStyle(e).fill })));
    expect(labels.some((l) => l.dark) && labels.some((l) => !l.dark)).toBe(true);
    for (const l of labels) expect(l.fill).toBe(l.dark ? "rgb(255, 255, 255)" : "rgb(0, 0, 0)");
  });

  it("is usable at 800 px: no page scroll sideways (the timeline scrolls inside its box if it must), readable rows", async () => {
    const report = await hostileReport();
    const { page, dir } = await openPage(report, 800);
    await screenshot(page, dir, 800);
    const widths = await page.$eval("html", (html) => ({ doc: html.scrollWidth, body: html.ownerDocument.body.scrollWidth }));
    expect(widths.doc).toBeLessThanOrEqual(800);
    expect(widths.body).toBeLessThanOrEqual(800);
    // Every table fits its box: nothing to scroll but the timeline.
    const tables = await page.$$eval(".table-wrap", (els) => els.map((e) => ({ id: e.querySelector("table")!.id, over: e.scrollWidth - e.clientWidth })));
    expect(tables.map((t) => t.id)).toEqual(["stages", "sessions", "task-phases", "commands", "agents", "bottlenecks", "work"]);
    for (const t of tables) expect(t.over, t.id).toBeLessThanOrEqual(0);
    const chart = (await page.locator("svg#timeline").boundingBox())!;
    expect(chart.width).toBeGreaterThanOrEqual(480);
    expect(chart.x + chart.width).toBeLessThanOrEqual(800);
    // Readable: 12 px labels, bars at least 14 px high, one label per row that does not overlap the next.
    const labels = await page.$$eval(".lane-labels text", (els) => els.map((e) => ({ size: parseFloat(e.ownerDocument.defaultView!.getComputedStyle(e).fontSize), box: e.getBoundingClientRect() })).map(({ size, box }) => ({ size, top: box.top, bottom: box.bottom })));
    expect(Math.min(...labels.map((l) => l.size))).toBeGreaterThanOrEqual(12);
    for (let i = 1; i < labels.length; i++) expect(labels[i]!.top).toBeGreaterThanOrEqual(labels[i - 1]!.bottom - 1);
    const heights = await page.$$eval("#timeline rect.bar, #timeline rect.gate-run", (els) => els.map((e) => e.getBoundingClientRect().height));
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(14);
  });
});
