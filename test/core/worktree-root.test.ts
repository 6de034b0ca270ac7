import { describe, expect, it } from "vitest";
import { checkWorktreeRoot } from "../../controller/core/worktree-root.js";

describe("checkWorktreeRoot", () => {
  it.each([".gaffer/worktrees", "../worktrees", "../proj-worktrees/x", "/srv/worktrees", "wt#(touch x)", "p;q#S", "target/.worktrees", "./wt/"])("accepts %j", (root) => {
    expect(checkWorktreeRoot(root, "target")).toBeNull();
  });

  it.each([
    ["wt\u0007", "holds control character 0x07; use a plain directory path"],
    ["wt\nx", "holds control character 0x0a; use a plain directory path"],
    ["/", "is the filesystem root; name a directory for worktrees (e.g. `.gaffer/worktrees`)"],
    ["//", "is the filesystem root; name a directory for worktrees (e.g. `.gaffer/worktrees`)"],
    ["../../x", "leaves the control dir's parent directory; use a path below it (e.g. `../worktrees`) or an absolute path"],
    ["a/../../../x", "leaves the control dir's parent directory; use a path below it (e.g. `../worktrees`) or an absolute path"],
    [".", "is the control dir itself; name a directory below it (e.g. `.gaffer/worktrees`)"],
    ["x/..", "is the control dir itself; name a directory below it (e.g. `.gaffer/worktrees`)"],
    ["..", "is the control dir's parent itself; name a directory below it (e.g. `.gaffer/worktrees`)"],
    ["target/", "is the target repo's main checkout; name a directory for worktrees (e.g. `.gaffer/worktrees`)"],
    ["manifests/wt", "is under manifests/, which holds the control repo's own records; use e.g. `.gaffer/worktrees`"],
    ["./status", "is under status/, which holds the control repo's own records; use e.g. `.gaffer/worktrees`"],
    ["memory/x", "is under memory/, which holds the control repo's own records; use e.g. `.gaffer/worktrees`"],
    [".git/wt", "is under .git/, which holds the control repo's own records; use e.g. `.gaffer/worktrees`"],
  ])("refuses %j: %s", (root, message) => {
    expect(checkWorktreeRoot(root, "target")).toBe(message);
  });
});
