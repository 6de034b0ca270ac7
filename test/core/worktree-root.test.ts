import { describe, expect, it } from "vitest";
import { checkWorktreeRoot, defaultWorktreeRoot } from "../../controller/core/worktree-root.js";

describe("checkWorktreeRoot", () => {
  it.each([".gaffer/worktrees", "../worktrees", "../proj-worktrees/x", "/srv/worktrees", "wt#(touch x)", "p;q#S", "target/.worktrees", "./wt/"])("accepts %j", (root) => {
    expect(checkWorktreeRoot(root, "target")).toBeNull();
  });

  it.each([
    ["wt\u0007", "holds control character 0x07; use a plain directory path"],
    ["wt\nx", "holds control character 0x0a; use a plain directory path"],
    ["/", "is the filesystem root; name a directory for worktrees (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)"],
    ["//", "is the filesystem root; name a directory for worktrees (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)"],
    ["../../x", "leaves the control dir's parent directory (and the target repo's); use a path below it (e.g. `../worktrees`) or an absolute path"],
    ["a/../../../x", "leaves the control dir's parent directory (and the target repo's); use a path below it (e.g. `../worktrees`) or an absolute path"],
    [".", "is the control dir itself; name a directory below it (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)"],
    ["x/..", "is the control dir itself; name a directory below it (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)"],
    ["..", "is the control dir's parent itself; name a directory below it (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)"],
    ["target/", "is the target repo's main checkout; name a directory for worktrees (e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo)"],
    ["manifests/wt", "is under manifests/, which holds the control repo's own records; use e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo"],
    ["./status", "is under status/, which holds the control repo's own records; use e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo"],
    ["memory/x", "is under memory/, which holds the control repo's own records; use e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo"],
    [".git/wt", "is under .git/, which holds the control repo's own records; use e.g. `../worktrees`, or leave worktreeRoot out for the default beside the target repo"],
  ])("refuses %j: %s", (root, message) => {
    expect(checkWorktreeRoot(root, "target")).toBe(message);
  });

  it("a control dir inside the target repo (repo: ..) may reach the target's parent, never its ancestors", () => {
    expect(checkWorktreeRoot("../../app.gaffer-worktrees", "..")).toBeNull();
    expect(checkWorktreeRoot("../../../x", "..")).toBe("leaves the control dir's parent directory (and the target repo's); use a path below it (e.g. `../worktrees`) or an absolute path");
    expect(checkWorktreeRoot("../..", "..")).toBe("is an ancestor of the control dir; name a directory below it (e.g. `../worktrees`)");
  });
});

describe("defaultWorktreeRoot", () => {
  it.each([
    ["/w/app", ".", "../app.gaffer-worktrees"],
    ["/w/control", "../app", "../app.gaffer-worktrees"],
    ["/w/app/ops", "..", "../../app.gaffer-worktrees"],
    ["/w/control", "vendor/app", "../app.gaffer-worktrees"],
    ["/w/control", "/srv/app", "/srv/app.gaffer-worktrees"],
  ])("control dir %s, repo %j: %s, outside both repos and accepted by validate", (dir, repo, expected) => {
    expect(defaultWorktreeRoot(dir, repo)).toBe(expected);
    expect(checkWorktreeRoot(expected, repo)).toBeNull();
  });
});
