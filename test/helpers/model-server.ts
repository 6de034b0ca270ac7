import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAbsolute, join } from "node:path";

/**
 * A local model server for tests with the real agent CLIs (127.0.0.1, a
 * random port): the Anthropic Messages API (streaming SSE, what claude calls)
 * and the OpenAI Responses API (SSE, what codex calls). Each prompt the agent
 * sends is answered from the test's script: a tool call that writes a file,
 * then (when the tool result comes back) a text that ends the turn. Side
 * requests (titles, suggestions, anything without tools) get a short text.
 */

/** What the model does for a prompt whose text contains `when`. */
export interface ScriptedTurn {
  /** Substring of the user's prompt this turn answers (the first match wins; no `when` matches any prompt). */
  readonly when?: string;
  /** A file the agent must write: a relative path is resolved against the agent's working directory. */
  readonly write?: { readonly path: string; readonly content: string };
  /** A shell command the agent must run (claude's Bash tool, codex's exec_command): outside acceptEdits it asks permission first. */
  readonly run?: string;
  /** The final answer text (default "Done."). */
  readonly text?: string;
}

/** One request the server received. */
export interface RecordedRequest {
  readonly api: "anthropic" | "openai" | "other";
  readonly method: string;
  readonly path: string;
  /** Parsed JSON body (null for none). */
  readonly body: unknown;
  /** What the server decided: `tool` (asked for a write), `final`, `side` (a side request), `head`. */
  readonly answer: "tool" | "final" | "side" | "head" | "unknown";
  /** Epoch ms the answer was sent. */
  readonly at: number;
}

export interface ModelServer {
  /** `http://127.0.0.1:PORT` (ANTHROPIC_BASE_URL); codex takes `${url}/v1`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Token usage the server reports per answer (input, output). */
  readonly usage: { readonly input: number; readonly output: number };
  close(): Promise<void>;
}

/** Starts a model server answering from `script`. */
export async function startModelServer(script: readonly ScriptedTurn[], options: { usage?: { input: number; output: number } } = {}): Promise<ModelServer> {
  const requests: RecordedRequest[] = [];
  const usage = options.usage ?? { input: 120, output: 30 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: unknown = null;
      try {
        body = chunks.length === 0 ? null : JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = Buffer.concat(chunks).toString("utf8");
      }
      answer({ req, res, body, script, usage, record: (r) => requests.push({ ...r, at: Date.now() }) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    usage,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: unknown;
  readonly script: readonly ScriptedTurn[];
  readonly usage: { readonly input: number; readonly output: number };
  record(r: Omit<RecordedRequest, "at">): void;
}

function answer(x: Exchange): void {
  const path = x.req.url ?? "/";
  const method = x.req.method ?? "GET";
  if (method === "HEAD" || method === "GET" && !path.startsWith("/v1/")) {
    x.record({ api: "other", method, path, body: x.body, answer: "head" });
    x.res.writeHead(200, { "content-type": "application/json" }).end(method === "HEAD" ? undefined : "{}");
    return;
  }
  if (path.startsWith("/v1/messages/count_tokens")) {
    x.record({ api: "anthropic", method, path, body: x.body, answer: "side" });
    x.res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ input_tokens: x.usage.input }));
    return;
  }
  if (path.startsWith("/v1/messages")) return answerAnthropic(x, path);
  if (path.startsWith("/v1/responses")) return answerOpenAi(x, path);
  x.record({ api: "other", method, path, body: x.body, answer: "unknown" });
  x.res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${path}` } }));
}

/** What to answer: a tool call for a matching prompt, the final text after a tool result, or a side answer. */
type Decision = { kind: "tool"; turn: ScriptedTurn; path: string } | { kind: "final"; text: string } | { kind: "side"; text: string };

function decide(script: readonly ScriptedTurn[], conv: { hasTools: boolean; prompt: string; afterTool: boolean; cwd: string | null }): Decision {
  if (!conv.hasTools) return { kind: "side", text: "Scripted work" };
  const turn = script.find((t) => t.when === undefined || conv.prompt.includes(t.when));
  if (conv.afterTool || turn === undefined || (turn.write === undefined && turn.run === undefined)) return { kind: "final", text: turn?.text ?? "Done." };
  if (turn.write === undefined) return { kind: "tool", turn, path: "" };
  const path = isAbsolute(turn.write.path) || conv.cwd === null ? turn.write.path : join(conv.cwd, turn.write.path);
  return { kind: "tool", turn, path };
}

type AnthropicBlock = { type: string; text?: string; content?: unknown };
type AnthropicMessage = { role: string; content: string | AnthropicBlock[] };

function textOf(content: string | readonly AnthropicBlock[] | undefined): string {
  if (typeof content === "string") return content;
  return (content ?? []).filter((b) => b.type === "text").map((b) => b.text ?? "").join("\n");
}

function answerAnthropic(x: Exchange, path: string): void {
  const body = (x.body ?? {}) as { messages?: AnthropicMessage[]; tools?: unknown[]; system?: string | AnthropicBlock[]; stream?: boolean };
  const messages = body.messages ?? [];
  const last = messages[messages.length - 1];
  const lastUser = [...messages].reverse().find((m) => m.role === "user" && textOf(m.content).trim() !== "" && !textOf(m.content).startsWith("<system-reminder>"));
  const afterTool = Array.isArray(last?.content) && last.content.some((b) => b.type === "tool_result");
  const system = textOf(body.system);
  const cwd = /Primary working directory: (\S+)/.exec(system)?.[1] ?? /Working directory: (\S+)/.exec(system)?.[1] ?? null;
  const prompt = messages.filter((m) => m.role === "user").map((m) => textOf(m.content)).join("\n");
  const decision = decide(x.script, { hasTools: (body.tools ?? []).length > 0, prompt: lastUser === undefined ? prompt : prompt, afterTool, cwd });
  x.record({ api: "anthropic", method: x.req.method ?? "POST", path, body: x.body, answer: decision.kind });
  const id = `msg_${Math.random().toString(36).slice(2, 10)}`;
  const blocks: object[] = decision.kind === "tool"
    ? [decision.turn.write === undefined
      ? { type: "tool_use", id: `toolu_${id}`, name: "Bash", input: { command: decision.turn.run, description: "Run the scripted command" } }
      : { type: "tool_use", id: `toolu_${id}`, name: "Write", input: { file_path: decision.path, content: decision.turn.write.content } }]
    : [{ type: "text", text: decision.text }];
  const stop = decision.kind === "tool" ? "tool_use" : "end_turn";
  if (body.stream !== true) {
    x.res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, type: "message", role: "assistant", model: "scripted", content: blocks, stop_reason: stop, usage: { input_tokens: x.usage.input, output_tokens: x.usage.output } }));
    return;
  }
  const events: [string, object][] = [["message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model: "scripted", content: [], stop_reason: null, usage: { input_tokens: x.usage.input, output_tokens: 1 } } }]];
  blocks.forEach((block, index) => {
    const b = block as { type: string; text?: string; input?: unknown };
    if (b.type === "text") {
      events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }]);
      events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: b.text } }]);
    } else {
      events.push(["content_block_start", { type: "content_block_start", index, content_block: { ...b, input: {} } }]);
      events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) } }]);
    }
    events.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  events.push(["message_delta", { type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: x.usage.output } }]);
  events.push(["message_stop", { type: "message_stop" }]);
  sendSse(x.res, events);
}

type OpenAiItem = { type: string; role?: string; content?: { type: string; text?: string }[] | string };

function answerOpenAi(x: Exchange, path: string): void {
  const body = (x.body ?? {}) as { input?: OpenAiItem[]; tools?: unknown[]; instructions?: string };
  const input = body.input ?? [];
  const last = input[input.length - 1];
  const afterTool = last !== undefined && /_call_output$/.test(last.type);
  const userText = input.filter((i) => i.role === "user").map((i) => (typeof i.content === "string" ? i.content : (i.content ?? []).map((c) => c.text ?? "").join("\n"))).join("\n");
  const cwd = /<cwd>([^<]+)<\/cwd>/.exec(userText)?.[1] ?? null;
  const decision = decide(x.script, { hasTools: (body.tools ?? []).length > 0, prompt: userText, afterTool, cwd });
  x.record({ api: "openai", method: x.req.method ?? "POST", path, body: x.body, answer: decision.kind });
  const id = `resp_${Math.random().toString(36).slice(2, 10)}`;
  const item = decision.kind === "tool"
    ? { type: "function_call", id: `fc_${id}`, call_id: `call_${id}`, name: "exec_command", arguments: JSON.stringify({ cmd: decision.turn.write === undefined ? decision.turn.run : writeCommand(decision.path, decision.turn.write.content), ...(cwd === null ? {} : { workdir: cwd }) }), status: "completed" }
    : { type: "message", id: `msg_${id}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: decision.text, annotations: [] }] };
  const response = { id, object: "response", status: "in_progress", model: "scripted", output: [] as object[] };
  const events: [string, object][] = [["response.created", { type: "response.created", response }]];
  events.push(["response.output_item.added", { type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", ...(item.type === "message" ? { content: [] } : {}) } }]);
  if (decision.kind !== "tool") events.push(["response.output_text.delta", { type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta: decision.text }]);
  events.push(["response.output_item.done", { type: "response.output_item.done", output_index: 0, item }]);
  const usageBlock = { input_tokens: x.usage.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: x.usage.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: x.usage.input + x.usage.output };
  events.push(["response.completed", { type: "response.completed", response: { ...response, status: "completed", output: [item], usage: usageBlock } }]);
  sendSse(x.res, events);
}

/** A shell command that writes `content` to `path` exactly (a quoted heredoc keeps it literal). */
function writeCommand(path: string, content: string): string {
  const quoted = `'${path.replace(/'/g, `'\\''`)}'`;
  return `mkdir -p "$(dirname ${quoted})" && cat > ${quoted} <<'GAFFER_EOF'\n${content}\nGAFFER_EOF`;
}

function sendSse(res: ServerResponse, events: readonly [string, object][]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  for (const [name, data] of events) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  res.end();
}
