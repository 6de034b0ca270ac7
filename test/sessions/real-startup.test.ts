import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentSpec } from "../../controller/core/manifest-types.js";
import { checkSessionHealth } from "../../controller/sessions/health.js";
import { createSession } from "../../controller/sessions/create-session.js";
import { sendCommand } from "../../controller/sessions/send-command.js";
import type { SessionServiceContext } from "../../controller/sessions/context.js";
import { readAgentEvents } from "../../state/agent-events.repository.js";
import { listEvents } from "../../state/events.repository.js";
import { getSession, readTaskStall, type SessionRecord } from "../../state/sessions.repository.js";
import { git } from "../helpers/git-repo.js";
import { CODEX_BIN, realAgentFixture, type RealAgentFixture } from "../helpers/real-agents.js";
import { waitFor } from "../helpers/temp.js";

/**
 * Start-up states with the real claude and codex binaries (issue 10): each
 * ends in its documented state with the session alive, and nothing is typed
 * into a dialog: the queued prompt is held (`DeliveryHeld`), never reaches
 * the agent, and the person's decisions in the agent's config are unchanged.
 */

const PROMPT = "Write the greeting file.";

function worktreeIn(parent: string): string {
  const dir = join(parent, "wt");
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  return dir;
}

/**
 * The person's decisions in claude's config: which folders are trusted, which
 * keys approved, whether onboarding is done, the signed-in account. (claude
 * rewrites its own bookkeeping at every start, e.g. `firstStartTime`,
 * `machineID`, migrations, so the file as a whole changes whatever gaffer does.)
 */
function claudeDecisions(home: string): unknown {
  const config = JSON.parse(readFileSync(join(home, ".claude.json"), "utf8")) as Record<string, unknown>;
  // claude adds a record (not trusted) for each folder it starts in; only `true` is a person's decision.
  const trusted = Object.entries((config.projects ?? {}) as Record<string, { hasTrustDialogAccepted?: unknown }>).filter(([, p]) => p.hasTrustDialogAccepted === true).map(([dir]) => dir);
  return { trusted, keys: config.customApiKeyResponses, onboarding: config.hasCompletedOnboarding, account: config.oauthAccount ?? null };
}

/** Queues the prompt, waits for its `DeliveryHeld`, and returns it with the command's final state after the queue gives up. */
async function heldPrompt(f: RealAgentFixture, session: SessionRecord): Promise<{ held: Record<string, unknown>; state: string }> {
  const sent = sendCommand(f.ctx, { sessionId: session.id, text: PROMPT, waitFor: "acknowledged", timeoutMs: 4000 });
  const [held] = await waitFor(async () => {
    const events = await listEvents(f.ctx.db, { subject: `session/${session.id}/command/1`, action: "DeliveryHeld" });
    return events.length > 0 ? events : undefined;
  }, { timeoutMs: 10_000, what: "DeliveryHeld" });
  return { held: held!.payload as Record<string, unknown>, state: (await sent).state };
}

/** Nothing reached the agent: no prompt hook, no model request with the text, and the pane does not show it. */
async function expectNothingTyped(f: RealAgentFixture, session: SessionRecord, ctx: SessionServiceContext = f.ctx): Promise<void> {
  expect((await readAgentEvents(ctx.db, session.id)).filter((e) => e.kind === "prompt-submitted")).toEqual([]);
  expect(f.server.requests.filter((r) => JSON.stringify(r.body ?? "").includes(PROMPT))).toEqual([]);
  expect(await ctx.tmux.capturePane(session.tmuxName, 200)).not.toContain(PROMPT);
}

/** The screen line a stall message quotes. */
const stalledOn = (message: string | null): string => /\("(.*)"\)/.exec(message ?? "")?.[1] ?? "";

const attachOf = (f: RealAgentFixture, s: SessionRecord): string => `tmux -L ${f.ctx.tmux.socket} attach -t ${s.tmuxName}`;

describe("real claude start-up states", () => {
  it("folder not trusted: the session waits NeedsTrust on claude's trust dialog, the prompt is held, the folder is not trusted for you", async () => {
    const f = await realAgentFixture([]);
    const worktree = worktreeIn(join(f.home, "..", "untrusted"));
    const before = claudeDecisions(f.home);
    const session = await createSession(f.ctx, { task: "greet", agent: "claude", worktree });
    expect(session).toMatchObject({ state: "Waiting", status: "waiting", stallReason: "NeedsTrust" });
    expect(session.stallMessage).toBe(`claude asks whether to trust the worktree folder ("❯ 1. Yes, I trust this folder"): attach with \`${attachOf(f, session)}\` and answer it yourself (gaffer never answers a dialog for you)`);
    const { held, state } = await heldPrompt(f, session);
    expect(held).toMatchObject({ reason: "a dialog or question is on screen; nothing is typed into it", stall: "NeedsTrust" });
    expect(state).toBe("failed");
    expect(await f.ctx.tmux.capturePane(session.tmuxName, 50)).toMatch(/❯ 1\. Yes, I trust this folder\n\s+2\. No, exit/);
    await expectNothingTyped(f, session);
    expect(claudeDecisions(f.home)).toEqual(before);
    expect((await getSession(f.ctx.db, session.id))!.state).toBe("Waiting");
  }, 60_000);

  it("not logged in (no key, no login): the session waits NeedsLogin with what to do, the prompt is held", async () => {
    const f = await realAgentFixture([], { agentSpec: ({ env, ...spec }): AgentSpec => ({ ...spec, env: Object.fromEntries(Object.entries(env ?? {}).filter(([k]) => k !== "ANTHROPIC_API_KEY")) }) });
    const worktree = worktreeIn(f.trustedRoot);
    const before = claudeDecisions(f.home);
    const session = await createSession(f.ctx, { task: "greet", agent: "claude", worktree });
    expect(session).toMatchObject({ state: "Waiting", status: "waiting", stallReason: "NeedsLogin" });
    expect(session.stallMessage).toBe(`claude is not logged in ("${stalledOn(session.stallMessage)}"): attach with \`${attachOf(f, session)}\` and sign in (run /login), or set ANTHROPIC_API_KEY in the AgentPool env`);
    expect(stalledOn(session.stallMessage)).toMatch(/Not logged in · Run \/login$/);
    expect(await readTaskStall(f.ctx.db, "greet")).toMatchObject({ reason: "NeedsLogin", message: session.stallMessage });
    const { held, state } = await heldPrompt(f, session);
    expect(held).toMatchObject({ stall: "NeedsLogin" });
    expect(state).toBe("failed");
    await expectNothingTyped(f, session);
    expect(claudeDecisions(f.home)).toEqual(before);
  }, 60_000);

  it("API unreachable (the model server is down): the prompt goes in, claude's connection error lasts past stuckAfterMs, the task is Stalled ConnectionError and the session Stuck", async () => {
    const f = await realAgentFixture([], { agentSpec: (spec) => ({ ...spec, stuckAfterMs: 1500 }) });
    await f.server.close();
    const worktree = worktreeIn(f.trustedRoot);
    const session = await createSession(f.ctx, { task: "greet", agent: "claude", worktree });
    expect(session.state).toBe("Idle");
    const command = await sendCommand(f.ctx, { sessionId: session.id, text: PROMPT, waitFor: "acknowledged", timeoutMs: 30_000 });
    expect(command.evidence).toMatchObject({ by: "hook", rule: "claude/hook/UserPromptSubmit" });
    const stuck = await waitFor(async () => {
      const health = await checkSessionHealth(f.ctx, session.id);
      return health.state === "Stuck" ? health : undefined;
    }, { timeoutMs: 20_000, what: "Stuck on the connection error" });
    expect(stuck.reason).toMatch(/^error for \d+ ms: .*Unable to connect to API/);
    const after = (await getSession(f.ctx.db, session.id))!;
    expect(after.stallReason).toBe("ConnectionError");
    expect(after.stallMessage).toMatch(/^claude cannot reach its API \(".*Unable to connect to API.*"\) for \d+ s: check the network and the agent's base URL and key; attach with `tmux -L \S+ attach -t \S+` to see it$/);
  }, 60_000);

  it("binary missing: AGENT_NOT_INSTALLED with claude's install hint, nothing started, its HOME untouched", async () => {
    // The profile's own command (`claude`), on a PATH without it.
    const f = await realAgentFixture([], { agentSpec: ({ command: _, ...spec }): AgentSpec => (spec.name === "claude" ? { ...spec, env: { ...spec.env, PATH: "/usr/bin:/bin" } } : { ...spec, command: _ }) });
    const worktree = worktreeIn(f.trustedRoot);
    const before = readFileSync(join(f.home, ".claude.json"), "utf8");
    const error = await createSession(f.ctx, { task: "greet", agent: "claude", worktree }).catch((e: unknown) => e as Error & { code: string });
    expect(error).toMatchObject({ code: "AGENT_NOT_INSTALLED", message: "agent \"claude\" cannot start: `claude` is not on PATH; install it (npm install -g @anthropic-ai/claude-code) or set the AgentPool agent's command" });
    expect(await f.ctx.db.selectFrom("sessions").select("id").execute()).toEqual([]);
    expect(await f.ctx.tmux.listSessions()).toEqual([]);
    expect(readFileSync(join(f.home, ".claude.json"), "utf8")).toBe(before);
  }, 30_000);
});

describe("real codex start-up states", () => {
  it("folder not trusted: codex's trust dialog makes the session wait NeedsTrust, the prompt is held, config.toml is unchanged byte for byte", async () => {
    // The profile's own sandbox (codex asks no trust question when told to bypass its sandbox).
    const f = await realAgentFixture([], { agentSpec: (spec) => (spec.name === "codex" ? { ...spec, command: [CODEX_BIN, "-m", "{model}", "--sandbox", "workspace-write"] } : spec) });
    const worktree = worktreeIn(join(f.home, "..", "untrusted"));
    const config = join(f.home, ".codex", "config.toml");
    const before = readFileSync(config, "utf8");
    const session = await createSession(f.ctx, { task: "greet", agent: "codex", worktree });
    expect(session).toMatchObject({ state: "Waiting", status: "waiting", stallReason: "NeedsTrust" });
    const { held, state } = await heldPrompt(f, session);
    expect(held).toMatchObject({ stall: "NeedsTrust" });
    expect(state).toBe("failed");
    await expectNothingTyped(f, session);
    expect(readFileSync(config, "utf8")).toBe(before);
  }, 60_000);

  it("not logged in (no provider, no sign-in): codex's sign-in menu makes the session wait NeedsLogin, the prompt is held, nothing is written for you", async () => {
    // An empty CODEX_HOME: no model provider, no auth.json.
    const f = await realAgentFixture([], { agentSpec: (spec) => (spec.name === "codex" ? { ...spec, env: { ...spec.env, CODEX_HOME: join(dirname(spec.env!.HOME!), "codex-home") } } : spec) });
    const codexHome = join(dirname(f.home), "codex-home");
    mkdirSync(codexHome);
    const worktree = worktreeIn(f.trustedRoot);
    const session = await createSession(f.ctx, { task: "greet", agent: "codex", worktree });
    expect(session).toMatchObject({ state: "Waiting", status: "waiting", stallReason: "NeedsLogin" });
    expect(session.stallMessage).toMatch(/^codex is not logged in \(".*"\): attach with `tmux -L \S+ attach -t \S+` and sign in, or set OPENAI_API_KEY in the AgentPool env$/);
    const { held, state } = await heldPrompt(f, session);
    expect(held).toMatchObject({ stall: "NeedsLogin" });
    expect(state).toBe("failed");
    await expectNothingTyped(f, session);
    expect(existsSync(join(codexHome, "auth.json"))).toBe(false);
  }, 60_000);

  it("API unreachable (the model server is down): codex's Reconnecting and Working screens alternate, yet the error episode passes stuckAfterMs: the task is Stalled ConnectionError and the session Stuck", async () => {
    const f = await realAgentFixture([], { agentSpec: (spec) => ({ ...spec, stuckAfterMs: 3000 }) });
    await f.server.close();
    const worktree = worktreeIn(f.trustedRoot);
    const session = await createSession(f.ctx, { task: "greet", agent: "codex", worktree });
    expect(session.state).toBe("Idle");
    const command = await sendCommand(f.ctx, { sessionId: session.id, text: PROMPT, waitFor: "acknowledged", timeoutMs: 30_000 });
    expect(command.state).toBe("acknowledged");
    const stuck = await waitFor(async () => {
      const health = await checkSessionHealth(f.ctx, session.id);
      return health.state === "Stuck" ? health : undefined;
    }, { timeoutMs: 45_000, what: "Stuck on the connection error" });
    expect(stuck.reason).toMatch(/^error for \d+ ms: .*Reconnecting\.\.\. waiting for network/);
    // The stall is judged on every look at the live screen (codex flips between its screens meanwhile), as the
    // controller keeps looking: it is ConnectionError once the episode has lasted, whichever screen a look finds.
    const after = await waitFor(async () => {
      await checkSessionHealth(f.ctx, session.id);
      const row = (await getSession(f.ctx.db, session.id))!;
      return row.stallReason === "ConnectionError" ? row : undefined;
    }, { timeoutMs: 15_000, intervalMs: 250, what: "the task stalled ConnectionError" });
    expect(after.stallReason).toBe("ConnectionError");
    expect(after.stallMessage).toMatch(/^codex cannot reach its API \(".*Reconnecting\.\.\. waiting for network.*"\) for \d+ s: check the network and the agent's base URL and key; attach with `tmux -L \S+ attach -t \S+` to see it$/);
  }, 90_000);
});
