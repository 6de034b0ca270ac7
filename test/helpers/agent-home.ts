import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The fake API key the real CLIs are given in tests (never a real one). */
export const FAKE_KEY = "sk-ant-test-gaffer-0000000000000000000000000000";

/** Environment that points the real CLIs at a local model server, in `home`. */
export function agentEnv(home: string, modelUrl: string): Record<string, string> {
  return {
    HOME: home,
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: FAKE_KEY,
    GAFFER_TEST_OPENAI_KEY: "sk-test-gaffer",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    NO_COLOR: "",
  };
}

/**
 * Prepares `home` so the real claude reaches its prompt offline: onboarding
 * done and the fake key approved (both are first-run dialogs otherwise);
 * `trusted` folders skip the trust dialog, any other folder still shows it.
 */
export function prepareClaudeHome(home: string, options: { trusted?: readonly string[] } = {}): void {
  mkdirSync(join(home, ".claude"), { recursive: true });
  const projects = Object.fromEntries((options.trusted ?? []).map((dir) => [dir, { hasTrustDialogAccepted: true, allowedTools: [] }]));
  const config = { hasCompletedOnboarding: true, lastOnboardingVersion: "2.1.197", customApiKeyResponses: { approved: [FAKE_KEY.slice(-20)], rejected: [] }, projects };
  writeFileSync(join(home, ".claude.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Prepares `home` so the real codex uses the local model server (a provider
 * with `base_url`, keyed by an environment variable) and shows no sign-in
 * screen; `trusted` folders skip the trust dialog.
 */
export function prepareCodexHome(home: string, modelUrl: string, options: { trusted?: readonly string[] } = {}): void {
  mkdirSync(join(home, ".codex"), { recursive: true });
  const lines = [
    `model = "scripted"`,
    `model_provider = "local"`,
    ``,
    `[model_providers.local]`,
    `name = "local"`,
    `base_url = "${modelUrl}/v1"`,
    `wire_api = "responses"`,
    `env_key = "GAFFER_TEST_OPENAI_KEY"`,
    ``,
    ...(options.trusted ?? []).flatMap((dir) => [`[projects."${dir}"]`, `trust_level = "trusted"`, ``]),
    // codex records this at its first start: set, the file stays as written (tests compare it byte for byte).
    `[tui]`,
    `screen_reader_detection_done = true`,
    ``,
  ];
  writeFileSync(join(home, ".codex", "config.toml"), lines.join("\n"));
}
