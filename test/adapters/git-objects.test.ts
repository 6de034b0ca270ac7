import { describe, expect, it } from "vitest";
import { GitCli } from "../../controller/adapters/git.js";
import { git, gitRepo } from "../helpers/git-repo.js";
import { traceGit } from "../helpers/git-trace.js";

describe("git object reader (cat-file --batch-check)", () => {
  it("answers many lookups through one git process, null for a name git cannot resolve, and starts none when asked nothing", async () => {
    const repo = gitRepo();
    const head = git(repo, "rev-parse", "HEAD");
    const idle = await traceGit(() => new GitCli().openObjectReader(repo).close());
    expect(idle.trace.count).toBe(0);
    const { result, trace } = await traceGit(async () => {
      const reader = new GitCli().openObjectReader(repo);
      try {
        const first = await reader.ids([`${head}:README.md`, `${head}:manifests`, `${head}^{tree}`]);
        const second = await reader.ids([`${head}:README.md`, "no-such-ref:x"]);
        return [...first, ...second];
      } finally {
        await reader.close();
      }
    });
    const blob = git(repo, "rev-parse", `${head}:README.md`);
    expect(result).toEqual([blob, null, git(repo, "rev-parse", `${head}^{tree}`), blob, null]);
    expect(trace.commands).toEqual(["cat-file"]);
  });
});
