import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { closeMaster, runRemote, shellQuote } from "../../controller/adapters/ssh.js";
import { startSshd } from "../helpers/sshd.js";
import { tempDir } from "../helpers/temp.js";

describe("ssh transport (real sshd)", () => {
  it("runs an argv on the host with every argument quoted, over one shared connection", async () => {
    const sshd = await startSshd();
    const host = sshd.host("box-1");
    const canary = `${sshd.dir}/canary`;
    const nasty = ["it's", "$(touch " + canary + ")", "`touch " + canary + "`", "a;b", "*", "#x", "two  spaces", "new\nline"];
    const result = await runRemote(host, ["printf", "%s|", ...nasty]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(nasty.map((a) => `${a}|`).join(""));
    expect((await execa("ls", [sshd.dir])).stdout).not.toContain("canary");
    // The master connection is up: `ssh -O check` answers through its socket.
    const check = await execa("ssh", ["-F", sshd.clientConfig, "-o", `ControlPath=${process.env.GAFFER_SSH_CONTROL_DIR}/%C`, "-p", String(sshd.port), "-O", "check", "root@127.0.0.1"], { reject: false });
    expect(check.stderr).toMatch(/Master running/);
    await closeMaster(host);
  });

  it("says HOST_UNREACHABLE with the next step when sshd is gone", async () => {
    const sshd = await startSshd();
    const host = sshd.host("box-1");
    await sshd.kill();
    const error = await runRemote(host, ["true"]).catch((e: Error & { code?: string }) => e);
    expect((error as { code?: string }).code).toBe("HOST_UNREACHABLE");
    expect((error as Error).message).toMatch(new RegExp(`^agent host box-1 \\(root@127.0.0.1:${sshd.port}\\) is unreachable: .*Connection refused; check that \`ssh -p ${sshd.port} root@127.0.0.1 true\` works without a prompt$`));
  });

  it("quotes for a POSIX shell", () => {
    expect(shellQuote("plain-arg_1.txt")).toBe("plain-arg_1.txt");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
  });
});
