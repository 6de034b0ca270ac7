import { expect, test } from "vitest";
import { resolveKey, workKey } from "../../controller/reconciler/task-effects.js";

test("prompt idempotency keys: a retry round's work and resolve prompts never reuse an earlier round's key", () => {
  expect(workKey({ task: "add-a", attempt: 1, round: 0 })).toBe("task:add-a:work:1");
  expect(workKey({ task: "add-a", attempt: 1, round: 2 })).toBe("task:add-a:r2:work:1");
  // Round 0 keeps the key earlier ledgers hold, so a restarted controller still finds its delivered prompt.
  expect(resolveKey({ task: "add-a", resolveAttempt: 1, round: 0 })).toBe("task:add-a:resolve:1");
  expect(resolveKey({ task: "add-a", resolveAttempt: 1, round: 1 })).toBe("task:add-a:r1:resolve:1");
  const keys = [0, 1, 2].flatMap((round) => [1, 2].map((resolveAttempt) => resolveKey({ task: "add-a", resolveAttempt, round })));
  expect(new Set(keys).size).toBe(keys.length);
});
