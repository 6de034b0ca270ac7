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
 * directory, the environment, stdin and the argv arrive as the bytes given.
 * The helper feeds stdin and drains stdout and stderr together (select), so
 * no size of either can block the child, then answers one header line
 * (`x CODE OUT ERR` or `s SIGNAL OUT ERR`, the byte counts) and the bytes;
 * or `e ERRNO` when the program or its directory could not be used, which
 * the child reports before its exec through a close-on-exec pipe. One
 * request at a time per helper; it ends when its stdin closes, as it does
 * when gaffer exits or is killed. Its first line is `ready`, and it says
 * `go` when it takes a request, before the fork: a helper that ends before
 * that (a perl that cannot run the script, a helper killed while idle) has
 * run nothing, and the request is handed back to be run another way.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { constants } from "node:os";
import type { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import type { ChildOptions, ChildResult } from "./child-run.js";

// NOTE: perl sets close-on-exec on every descriptor above 2, so the pipes' own ends close at the exec and the
// report pipe tells a failed exec from a started one (written with syswrite: `_exit` flushes no perl buffer).
// SIGPIPE is ignored in the helper (a child that exits without reading its stdin), SIGINT and SIGQUIT too (a
// Ctrl-C to gaffer's process group must not end a helper a graceful stop still needs); all three are restored in
// the child, so a Ctrl-C still reaches git as it did. `go` acknowledges a request before the fork: a helper that
// ends before it has run nothing. Once stdout and stderr are closed and the child has exited, stdin no longer
// holds the answer (a grandchild that kept it open never reads it), as with Node's own children.
// `%ENV` is replaced whole before the exec: a name without `/` is looked up on the request's own PATH.
// The input field is empty for stdin from /dev/null, else `<` and the bytes to feed.
const HELPER_SCRIPT = [
  'use POSIX (); $SIG{PIPE} = $SIG{INT} = $SIG{QUIT} = "IGNORE"; binmode STDIN; binmode STDOUT; $| = 1; my %env; print "ready\\n";',
  "while (my $line = <STDIN>) {",
  '  chomp $line; my @f = map { pack "H*", $_ } split /\\./, $line, -1;',
  '  my ($cwd, $input, $n) = splice @f, 0, 3; if ($n ne "=") { %env = (); for (1 .. $n) { my $k = shift @f; $env{$k} = shift @f } }',
  '  print "go\\n"; my $feed = length $input ? substr($input, 1) : undef; my ($ro, $wo, $re, $we, $r, $w, $ri, $wi);',
  '  if (!(pipe($ro, $wo) && pipe($re, $we) && pipe($r, $w) && (!defined $feed || pipe($ri, $wi)))) { print "e ", $! + 0, "\\n"; next }',
  '  my $pid = fork; if (!defined $pid) { print "e ", $! + 0, "\\n"; next }',
  "  if ($pid == 0) {",
  '    $SIG{PIPE} = $SIG{INT} = $SIG{QUIT} = "DEFAULT"; %ENV = %env;',
  '    chdir $cwd and (defined $feed ? open(STDIN, "<&", $ri) : open(STDIN, "<", "/dev/null")) and open(STDOUT, ">&", $wo) and open(STDERR, ">&", $we) and exec { $f[0] } @f;',
  "    syswrite $w, $! + 0; POSIX::_exit(127);",
  "  }",
  "  close $w; close $wo; close $we; close $ri if defined $ri; my $errno = do { local $/; <$r> }; close $r;",
  '  if (length($errno // "")) { close $wi if defined $wi; waitpid $pid, 0; print "e $errno\\n"; next }',
  '  my ($out, $err, $status) = ("", ""); my %open = (fileno($ro) => [$ro, \\$out], fileno($re) => [$re, \\$err]);',
  "  while (%open || defined $wi) {",
  "    if (!%open && waitpid($pid, POSIX::WNOHANG()) == $pid) { $status = $?; close $wi; last }",
  '    my ($rin, $win) = ("", ""); vec($rin, $_, 1) = 1 for keys %open; vec($win, fileno($wi), 1) = 1 if defined $wi;',
  "    select(my $rout = $rin, my $wout = $win, undef, %open ? undef : 0.05) > 0 or next;",
  "    for my $fd (keys %open) { next unless vec($rout, $fd, 1); my $got = sysread $open{$fd}[0], ${$open{$fd}[1]}, 65536, length ${$open{$fd}[1]}; delete $open{$fd} unless $got }",
  '    if (defined $wi && vec($wout, fileno($wi), 1)) { my $put = syswrite $wi, $feed, 4096; substr($feed, 0, $put) = "" if $put; if (!$put || !length $feed) { close $wi; undef $wi } }',
  "  }",
  "  if (!defined $status) { waitpid $pid, 0; $status = $? }",
  '  print +($status & 127 ? "s " . ($status & 127) : "x " . ($status >> 8)), " ", length $out, " ", length $err, "\\n", $out, $err;',
  "}",
].join("\n");

const READY = Buffer.from("ready\n");
const GO = Buffer.from("go\n");

const nameOf = (table: Readonly<Record<string, number>>, value: number): string | undefined => Object.entries(table).find(([, v]) => v === value)?.[0];
const hex = (text: string): string => Buffer.from(text, "utf8").toString("hex");

interface Pending {
  readonly file: string;
  /** null: the helper ended before it took the request (its `go`), so nothing ran. */
  readonly resolve: (result: ChildResult | null) => void;
  /** Whether the helper has taken the request (`go`): from then on the program may have run. */
  taken: boolean;
}

/** One helper process; `run` takes one request at a time (see `idle`). */
export class SpawnHelper {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private pending: Pending | null = null;
  /** What the helper has answered and is not yet taken, in arrival order. */
  private received: Buffer[] = [];
  private receivedBytes = 0;
  /** The pending answer's header and whole size, once its header line has come. */
  private header: { readonly kind: string; readonly value: string; readonly start: number; readonly outBytes: number } | null = null;
  private answerBytes: number | null = null;
  private dead = false;
  /** Whether the helper has said `ready`: one that ends before it could not run at all. */
  private ready = false;
  private lastEnv = "";

  /** Starts a helper through `perl` (an absolute path). */
  constructor(perl: string) {
    this.child = spawn(perl, ["-e", HELPER_SCRIPT, "gaffer-spawn-helper"], { stdio: ["pipe", "pipe", "ignore"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    this.child.stdin.on("error", () => undefined);
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.received.push(chunk);
      this.receivedBytes += chunk.length;
      this.takeAnswer();
    });
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

  /** Whether the helper came up (said `ready`); one that never did means this perl cannot run it. */
  get cameUp(): boolean {
    return this.ready;
  }

  /**
   * Runs `file ARGS` to its end through the helper; never rejects. Only when
   * `idle`. Null when the helper ended before it took the request: nothing
   * ran, and the request may be run another way.
   */
  run(file: string, args: readonly string[], options: ChildOptions): Promise<ChildResult | null> {
    if (!this.idle) throw new Error("spawn helper: a request is already running");
    const env = Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined);
    // The environment travels once while it stays the same (`=`: as the last request's).
    const envText = JSON.stringify(env);
    const envFields = envText === this.lastEnv ? ["="] : [String(env.length), ...env.flat()];
    this.lastEnv = envText;
    const fields = [options.cwd, options.input === undefined ? "" : `<${options.input}`, ...envFields, file, ...args];
    return new Promise((resolve) => {
      this.pending = { file, resolve, taken: false };
      // NOTE: while a request runs, the helper keeps the event loop alive (an awaited git call must not let Node exit),
      // its process too: a helper that dies mid-request closes its pipe before its exit is reaped.
      this.child.ref();
      (this.child.stdout as Socket).ref();
      this.child.stdin.write(`${fields.map(hex).join(".")}\n`);
    });
  }

  /** Ends the helper. */
  close(): void {
    this.child.stdin.end();
  }

  /** Answers the pending request once its header line and all the bytes it counts have arrived. */
  private takeAnswer(): void {
    if (!this.ready) {
      if (!this.takeLine(READY)) return;
      this.ready = true;
    }
    if (this.pending === null) return;
    if (!this.pending.taken) {
      if (!this.takeLine(GO)) return;
      this.pending.taken = true;
    }
    if (this.answerBytes === null) {
      const head = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received, this.receivedBytes);
      this.received = [head];
      const end = head.indexOf(10);
      if (end < 0) return;
      const [kind, value, outText, errText] = head.subarray(0, end).toString("latin1").split(" ") as [string, string, string?, string?];
      this.header = { kind, value, start: end + 1, outBytes: Number(outText ?? 0) };
      this.answerBytes = end + 1 + Number(outText ?? 0) + Number(errText ?? 0);
    }
    // NOTE: a large output arrives in many chunks: they are joined once, when all have come.
    if (this.receivedBytes < this.answerBytes) return;
    const all = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received, this.receivedBytes);
    const { kind, value, start, outBytes } = this.header!;
    const size = this.answerBytes;
    const stdout = all.subarray(start, start + outBytes).toString("utf8");
    const stderr = all.subarray(start + outBytes, size).toString("utf8");
    this.received = all.length === size ? [] : [all.subarray(size)];
    this.receivedBytes = all.length - size;
    this.answerBytes = null;
    const { file, resolve } = this.pending;
    this.pending = null;
    this.idleHandles();
    if (kind === "e") return resolve({ stdout: "", stderr: "", exitCode: null, failure: `spawn ${file} ${nameOf(constants.errno, Number(value)) ?? `errno ${value}`}` });
    if (kind === "s") return resolve({ stdout, stderr, exitCode: null, failure: `killed by ${nameOf(constants.signals, Number(value)) ?? `signal ${value}`}` });
    resolve({ stdout, stderr, exitCode: Number(value), failure: null });
  }

  /** Takes `line` (a constant the helper prints) off the front of what it answered, once it has all come. */
  private takeLine(line: Buffer): boolean {
    if (this.receivedBytes < line.length) return false;
    const head = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received, this.receivedBytes);
    const rest = head.subarray(line.length);
    [this.received, this.receivedBytes] = [rest.length === 0 ? [] : [rest], rest.length];
    return true;
  }

  private onExit(): void {
    if (this.dead) return;
    this.dead = true;
    this.idleHandles();
    const pending = this.pending;
    this.pending = null;
    pending?.resolve(pending.taken ? { stdout: "", stderr: "", exitCode: null, failure: `spawn ${pending.file}: the spawn helper exited while it ran` } : null);
  }

  /** An idle helper never keeps gaffer running. */
  private idleHandles(): void {
    this.child.unref();
    // NOTE: the answer pipe is a socket that is always reading, so it would hold the event loop (the request pipe,
    // written only during a request, does not).
    (this.child.stdout as Socket).unref();
  }
}
