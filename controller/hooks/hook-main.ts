import { runHook } from "./run-hook.js";

/**
 * The `gaffer hook` process (its own small bundle, see gaffer.js): agents call
 * it on every lifecycle event, so it loads only what it needs and parses its
 * fixed argv by hand: `hook AGENT EVENT [PAYLOAD] --session ID --dir DIR`.
 */
const args = process.argv.slice(3);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1]!.startsWith("--")));
const [agent, event, payload] = positional;
await runHook({ agent: agent ?? "unknown", event: event ?? "unknown", payload, sessionId: flag("--session") ?? "unknown", dir: flag("--dir") ?? "." });
process.exitCode = 0;
