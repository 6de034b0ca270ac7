import { expect, test } from "vitest";
// @ts-expect-error: the scripted agent is plain JS (it starts without a TypeScript loader).
import { unionResolve } from "../../controller/agents/scripted-gaffer.js";

test("the scripted resolver keeps both sides of every conflict hunk, ours first, and drops the markers and the base", () => {
  const conflicted = ["top", "<<<<<<< HEAD", "ours 1", "ours 2", "||||||| base", "base", "=======", "theirs", ">>>>>>> main", "middle", "<<<<<<< HEAD", "a", "=======", "b", ">>>>>>> main", "end"].join("\n");
  expect((unionResolve as (s: string) => string)(conflicted)).toBe(["top", "ours 1", "ours 2", "theirs", "middle", "a", "b", "end"].join("\n"));
});
