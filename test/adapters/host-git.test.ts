import { describe, expect, it } from "vitest";
import { pushToHost } from "../../controller/adapters/host-git.js";
import { GitError } from "../../controller/errors.js";
import { git, gitRepo } from "../helpers/git-repo.js";
import { startSshd } from "../helpers/sshd.js";

describe("host git transport (real sshd)", () => {
  it("fails a push to a host whose sshd is gone with the git adapter's error: command, cwd, exit code, stderr, and the next step", async () => {
    const sshd = await startSshd();
    const host = sshd.host("box-1");
    await sshd.kill();
    const repo = gitRepo();
    const head = git(repo, "rev-parse", "HEAD");
    const error = await pushToHost(host, repo, { repo: `${host.workdir}/repo.git`, sha: head, ref: "refs/gaffer/base/t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).code).toBe("GIT_FAILED");
    expect((error as GitError).message).toMatch(new RegExp(`^git push -q --force --no-verify ssh://root@127\\.0\\.0\\.1:${sshd.port}\\S+ ${head}:refs/gaffer/base/t failed in ${repo} \\(exit 128\\): .*Connection refused; check the agent host's workdir and the local worktree$`));
    expect((error as GitError).details).toMatchObject({ command: ["git", "push", "-q", "--force", "--no-verify", expect.stringMatching(/^ssh:\/\//), `${head}:refs/gaffer/base/t`], cwd: repo, exitCode: 128 });
  });
});
