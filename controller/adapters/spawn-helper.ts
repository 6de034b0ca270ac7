/**
 * A small long-lived process that starts gaffer's short children for it.
 *
 * Node starts a child with fork + exec, and a fork copies the parent's page
 * tables: from a controller at 100-200 MB a `git` start costs Node 8-13 ms of
 * CPU and blocks its event loop that long, where the same fork from a 5 MB
 * process costs well under a millisecond (`npm run bench git`). So git runs
 * are handed to a helper: a constant perl script (perl-base, which the pane
 * launcher needs already) that reads one request per line, forks, and execs
 * the program with no shell. The request is hex (only `[0-9a-f.]`): the
 * directory, the whole environment and the argv arrive as the bytes given.
 * The child's stdin, stdout and stderr are files in a private directory
 * (mkdtemp, 0700), so no output size can block either side; the helper
 * answers `x CODE`, `s SIGNAL` or `e ERRNO` (the program or its directory
 * could not be used, reported by the child before its exec through a
 * close-on-exec pipe). One request at a time per helper; the directory goes
 * when the helper's stdin closes, as it does when gaffer exits or is killed.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import type { ChildOptions, ChildResult } from "./child-run.js";

// NOTE: perl sets close-on-exec on every descriptor above 2, so the report pipe closes at a successful exec
// (written with syswrite: `_exit` flushes no perl buffer).
// `$ENV` is replaced whole before the exec: a name without `/` is looked up on the request's own PATH.
const HELPER_SCRIPT = [
  "use POSIX (); my $dir = shift @ARGV; $| = 1; my %env;",
  "while (my $line = <STDIN>) {",
  '  chomp $line; my @f = map { pack "H*", $_ } split /\\./, $line, -1;',
  '  my ($cwd, $in, $n) = splice @f, 0, 3; if ($n ne "=") { %env = (); for (1 .. $n) { my $k = shift @f; $env{$k} = shift @f } }',
  '  pipe(my $r, my $w) or do { print "e ", $! + 0, "\\n"; next };',
  '  my $pid = fork; if (!defined $pid) { print "e ", $! + 0, "\\n"; next }',
  "  if ($pid == 0) {",
  "    close $r; %ENV = %env;",
  '    chdir $cwd and open(STDIN, "<", $in) and open(STDOUT, ">", "$dir/out") and open(STDERR, ">", "$dir/err") and exec { $f[0] } @f;',
  "    syswrite $w, $! + 0; POSIX::_exit(127);",
  "  }",
  "  close $w; my $errno = do { local $/; <$r> }; close $r; waitpid $pid, 0; my $status = $?;",
  '  print length($errno // "") ? "e $errno\\n" : ($status & 127) ? "s " . ($status & 127) . "\\n" : "x " . ($status >> 8) . "\\n";',
  "}",
  'unlink "$dir/in", "$dir/out", "$dir/err"; rmdir $dir',
].join("\n");

const nameOf = (table: Readonly<Record<string, number>>, value: number): string | undefined => Object.entries(table).find(([, v]) => v === value)?.[0];
const hex = (text: string): string => Buffer.from(text, "utf8").toString("hex");

interface Pending {
  readonly file: string;
  readonly resolve: (result: ChildResult) => void;
}

/** One helper process; `run` takes one request at a time (see `idle`). */
export class SpawnHelper {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly dir: string;
  private pending: Pending | null = null;
  private answer = "";
  private dead = false;
  private lastEnv = "";

  /** Starts a helper through `perl` (an absolute path). */
  constructor(perl: string) {
    this.dir = mkdtempSync(join(tmpdir(), "gaffer-spawn-"));
    this.child = spawn(perl, ["-e", HELPER_SCRIPT, this.dir], { stdio: ["pipe", "pipe", "ignore"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    this.child.stdin.on("error", () => undefined);
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.onAnswer(chunk));
    this.child.on("error", () => this.onExit());
    // NOTE: `close`, not `exit`: an answer written just before the helper ended is read first.
    this.child.on("close", () => this.onExit());
    this.idleHandles();
  }

  /** Whether a request may be given now. */
  get idle(): boolean {
    return this.pending === null && !this.dead;
  }

  /** Whether the helper has gone (it is never used again). */
  get gone(): boolean {
    return this.dead;
  }

  /** Runs `file ARGS` to its end through the helper; never rejects. Only when `idle`. */
  run(file: string, args: readonly string[], options: ChildOptions): Promise<ChildResult> {
    if (!this.idle) throw new Error("spawn helper: a request is already running");
    const input = join(this.dir, "in");
    if (options.input !== undefined) writeFileSync(input, options.input);
    const env = Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined);
    // The environment travels once while it stays the same (`=`: as the last request's).
    const envText = JSON.stringify(env);
    const envFields = envText === this.lastEnv ? ["="] : [String(env.length), ...env.flat()];
    this.lastEnv = envText;
    const fields = [options.cwd, options.input === undefined ? "/dev/null" : input, ...envFields, file, ...args];
    return new Promise((resolve) => {
      this.pending = { file, resolve };
      // NOTE: while a request runs, the helper's pipe keeps the event loop alive (an awaited git call must not let Node exit).
      (this.child.stdout as Socket).ref();
      this.child.stdin.write(`${fields.map(hex).join(".")}\n`);
    });
  }

  /** Ends the helper (its directory goes with it). */
  close(): void {
    this.child.stdin.end();
  }

  private onAnswer(chunk: string): void {
    this.answer += chunk;
    const end = this.answer.indexOf("\n");
    if (end < 0 || this.pending === null) return;
    const [kind, value] = this.answer.slice(0, end).split(" ") as [string, string];
    this.answer = this.answer.slice(end + 1);
    const { file, resolve } = this.pending;
    this.pending = null;
    this.idleHandles();
    if (kind === "e") return resolve({ stdout: "", stderr: "", exitCode: null, failure: `spawn ${file} ${nameOf(constants.errno, Number(value)) ?? `errno ${value}`}` });
    const read = (name: string): string => readFileSync(join(this.dir, name), "utf8");
    const [stdout, stderr] = [read("out"), read("err")];
    if (kind === "s") return resolve({ stdout, stderr, exitCode: null, failure: `killed by ${nameOf(constants.signals, Number(value)) ?? `signal ${value}`}` });
    resolve({ stdout, stderr, exitCode: Number(value), failure: null });
  }

  private onExit(): void {
    if (this.dead) return;
    this.dead = true;
    this.idleHandles();
    // NOTE: the helper removes its directory when its stdin closes; one that died by a signal could not.
    rmSync(this.dir, { recursive: true, force: true });
    const pending = this.pending;
    this.pending = null;
    pending?.resolve({ stdout: "", stderr: "", exitCode: null, failure: `spawn ${pending.file}: the spawn helper exited while it ran` });
  }

  /** An idle helper never keeps gaffer running. */
  private idleHandles(): void {
    this.child.unref();
    // NOTE: the answer pipe is a socket that is always reading, so it would hold the event loop (the request pipe,
    // written only during a request, does not).
    (this.child.stdout as Socket).unref();
  }
}
