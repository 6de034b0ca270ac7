import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { geminiHookEnv, geminiHookSettings, insecureSettingsPath } from "../../controller/hooks/gemini-hooks.js";
import { tempDir } from "../helpers/temp.js";

describe("gemini's per-session hook settings", () => {
  it("call `gaffer hook gemini EVENT` for start, prompt, turn end and notifications, with gemini's millisecond timeout", () => {
    const settings = geminiHookSettings("s-1", "/ctl dir") as { hooks: Record<string, { hooks: { type: string; command: string; timeout: number }[] }[]> };
    expect(Object.keys(settings.hooks)).toEqual(["SessionStart", "BeforeAgent", "AfterAgent", "Notification"]);
    const hook = settings.hooks.BeforeAgent![0]!.hooks[0]!;
    expect(hook).toMatchObject({ type: "command", timeout: 10_000 });
    expect(hook.command).toMatch(/^'\S+node' '\S+\/controller\/gaffer\.js' 'hook' 'gemini' 'BeforeAgent' '--session' 's-1' '--dir' '\/ctl dir'$/);
  });

  it("are not used where gemini would ignore them (not root's, or a group- or world-writable directory above, like /tmp), and say why", () => {
    expect(insecureSettingsPath("/srv/ctl/.gaffer/hooks/s/gemini-settings.json", 1000)).toBe("gemini reads its system settings file only when root owns it, and gaffer runs as uid 1000");
    // /tmp (1777) blocks it even for root.
    expect(insecureSettingsPath("/tmp/gaffer-test-absent/.gaffer/hooks/s/gemini-settings.json", 0)).toBe("/tmp is writable by group or others (mode 1777)");
    const open = tempDir();
    const dir = join(open, "ctl");
    mkdirSync(dir);
    expect(geminiHookEnv("s", dir)).toEqual({});
    chmodSync(open, 0o777);
    expect(insecureSettingsPath(join(dir, ".gaffer", "hooks", "s", "gemini-settings.json"), 0)).toBe(`${open} is writable by group or others (mode 777)`);
    chmodSync(open, 0o700);
  });
});
