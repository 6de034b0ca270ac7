import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AGENT_PROFILES } from "../../controller/core/agent-profiles.js";
import { classify, parseResetTime, tailOf } from "../../controller/core/screen-status.js";
import type { AgentProfileName } from "../../controller/core/manifest-types.js";

const SCREENS = fileURLToPath(new URL("../fixtures/screens/", import.meta.url));

/** `<agent>-<state>[-detail].txt`: the state in the name is what the profile must say. */
const EXPECTED: Record<string, { status: string; kind: string }> = {
  ready: { status: "idle", kind: "ready" },
  idle: { status: "idle", kind: "ready" },
  busy: { status: "running", kind: "busy" },
  waiting: { status: "waiting", kind: "waiting" },
  error: { status: "error", kind: "error" },
  ratelimit: { status: "error", kind: "rateLimit" },
  unknown: { status: "unknown", kind: null as unknown as string },
};

function loadScreen(file: string): string {
  const text = readFileSync(SCREENS + file, "utf8");
  expect(text.startsWith("# fixture: "), `${file} starts with its provenance line`).toBe(true);
  return text.slice(text.indexOf("\n") + 1);
}

const STABLE = { stableForMs: 10_000, idleAfterMs: 2000 };

describe("profile screen fixtures", () => {
  const files = readdirSync(SCREENS).filter((f) => f.endsWith(".txt")).sort();
  it("covers every real agent CLI with ready, waiting and error screens", () => {
    for (const agent of ["claude", "codex", "gemini", "aider", "opencode"]) {
      for (const state of ["ready", "waiting", "error"]) expect(files.some((f) => f.startsWith(`${agent}-${state}`)), `${agent}-${state}`).toBe(true);
    }
  });
  for (const file of files) {
    const [agent, state] = file.replace(/\.txt$/, "").split("-") as [AgentProfileName, string];
    it(`${file}: ${agent} says ${EXPECTED[state]!.status}`, () => {
      const profile = AGENT_PROFILES[agent];
      const result = classify(loadScreen(file), profile.rules, { ...STABLE, tailLines: profile.statusLines });
      expect({ status: result.status, kind: result.ruleKind }).toEqual(EXPECTED[state]);
      // A screen that must not read as anything (e.g. a splash before a dialog) matches no rule.
      if (state === "unknown") return expect(result.ruleId).toBeNull();
      expect(result.ruleId).toMatch(new RegExp(`^${agent}/${result.ruleKind}/\\d+$`));
      expect(result.matched).not.toBeNull();
      expect(result.screenHash).toMatch(/^[0-9a-f]{16}$/);
    });
  }
});

describe("classify", () => {
  const rules = AGENT_PROFILES.scripted.rules;
  const opts = { stableForMs: 1000, idleAfterMs: 200, tailLines: 1 };

  it("is unknown when nothing matches, never a guessed idle", () => {
    expect(classify("scripted> write a.txt <<<x", rules, opts)).toMatchObject({ status: "unknown", ruleId: null, matched: null });
  });
  it("says running (settling) while a ready screen is not yet stable for idleAfterMs", () => {
    expect(classify("DONE 1\nscripted> ", rules, { ...opts, stableForMs: 50 })).toMatchObject({ status: "running", ruleKind: "ready", settling: true });
    expect(classify("DONE 1\nscripted> ", rules, opts)).toMatchObject({ status: "idle", ruleId: "scripted/ready/1", matched: "scripted>", settling: false });
  });
  it("ranks waiting over rate limit over error over busy over ready on the same lines", () => {
    const all = ["scripted> ", "Working...", "ERROR: boom", "RATE LIMITED: usage limit reached", "? Go on? [y/n] "];
    const many = { ...opts, tailLines: 0 };
    expect(classify(all.join("\n"), rules, many).status).toBe("waiting");
    expect(classify(all.slice(0, 4).join("\n"), rules, many).ruleKind).toBe("rateLimit");
    expect(classify(all.slice(0, 3).join("\n"), rules, many).ruleKind).toBe("error");
    expect(classify(all.slice(0, 2).join("\n"), rules, many).status).toBe("running");
  });
  it("looks only at the last non-blank lines when told to", () => {
    expect(tailOf("a\n\nb  \n\n", 1)).toEqual(["b"]);
    expect(classify("? old question [y/n] y\nanswer: yes\nDONE 2\nscripted> \n\n", rules, opts).status).toBe("idle");
  });
  it("hashes the whole screen, so any change is seen", () => {
    expect(classify("scripted> ", rules, opts).screenHash).not.toBe(classify("scripted>  ", rules, opts).screenHash);
  });
});

describe("parseResetTime", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  it("reads an ISO time, a relative delay, or nothing", () => {
    expect(parseResetTime("RATE LIMITED: usage limit reached, resets at 2030-01-01T00:00:30.000Z (in 30 s)", now)).toBe(now + 30_000);
    expect(parseResetTime("Retrying in 4.0 seconds...", now)).toBe(now + 4000);
    expect(parseResetTime("try again in 5 minutes", now)).toBe(now + 300_000);
    expect(parseResetTime("429 Too Many Requests", now)).toBeNull();
  });
});
