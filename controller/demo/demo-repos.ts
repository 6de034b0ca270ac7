import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";

export const DEMO_APPROVER = "demo-approver@gaffer.dev";
export const DEMO_AUTHOR = "demo-author@gaffer.dev";

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa("git", args, { cwd })).stdout.trim();
}

async function initRepo(dir: string, email: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "config", "user.email", email);
  await git(dir, "config", "user.name", email.split("@")[0]!);
  await git(dir, "config", "gc.auto", "0");
  await git(dir, "config", "commit.gpgsign", "false");
}

function write(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** The throwaway target: a tiny calculator with a real test suite (`node --test`). */
export async function writeDemoTarget(dir: string): Promise<void> {
  await initRepo(dir, DEMO_AUTHOR);
  write(dir, {
    "package.json": JSON.stringify({ name: "calc", version: "1.0.0", type: "module", scripts: { test: "node --test" } }, null, 2) + "\n",
    "calc.js": "export function add(a, b) {\n  return a + b;\n}\n",
    "test/add.test.js": 'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { add } from "../calc.js";\n\ntest("add", () => assert.equal(add(2, 3), 5));\n',
    "README.md": "# calc\n\nA tiny calculator.\n",
  });
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", "feat: add");
}

const fn = (name: string, op: string): string => `export function ${name}(a, b) {\n  return a ${op} b;\n}`;
const testOf = (name: string, a: number, b: number, expected: number): string =>
  `import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { ${name} } from "../calc.js";\n\ntest("${name}", () => assert.equal(${name}(${a}, ${b}), ${expected}));`;

/** A builder prompt in the scripted agent's language: append a function, add its test, run the tests, commit. */
function buildPrompt(task: string, name: string, op: string, check: [number, number, number]): string {
  return [
    `# Add ${name} to calc.js, with a test.`,
    `append calc.js ${fn(name, op).replace(/\n/g, " ")}`,
    `write test/${name}.test.js <<EOF`,
    testOf(name, ...check),
    "EOF",
    "run node --test",
    `commit feat(${task}): ${name} with a test`,
  ].join("\n");
}

function taskYaml(name: string, stage: string, role: string, prompt: string): string {
  return `apiVersion: gaffer/v1\nkind: Task\nmetadata:\n  name: ${name}\nspec:\n  stage: ${stage}\n  role: ${role}\n  prompt: |\n${prompt.split("\n").map((l) => `    ${l}`).join("\n")}\n`;
}

/** The control repo: manifests for plan -> build -> test -> merge with the scripted agent, committed by the demo author. */
export async function writeDemoControl(dir: string, socket: string): Promise<void> {
  await initRepo(dir, DEMO_APPROVER);
  const tasks = [
    taskYaml("write-plan", "plan", "planner", "write PLAN.md <<EOF\n# Plan\n- add-multiply, add-subtract: new calc functions with tests (both append to calc.js)\n- add-docs: document the functions\n- test-all: a test over all functions\n- changelog: release notes\nEOF\ncommit docs(write-plan): plan"),
    taskYaml("add-multiply", "build", "builder", buildPrompt("add-multiply", "multiply", "*", [3, 4, 12])),
    taskYaml("add-subtract", "build", "builder", buildPrompt("add-subtract", "subtract", "-", [9, 4, 5])),
    taskYaml("add-docs", "build", "builder", "append README.md ## Functions\nappend README.md add, subtract and multiply, each with a test in test/.\ncommit docs(add-docs): list the functions"),
    taskYaml("test-all", "test", "tester", `write test/all.test.js <<EOF\n${testOf("add", 1, 1, 2)}\nEOF\nrun node --test\ncommit test(test-all): cross-check the functions`),
    taskYaml("changelog", "merge", "resolver", "write CHANGELOG.md <<EOF\n# 1.1.0\n- multiply and subtract, with tests\nEOF\ncommit docs(changelog): release notes"),
  ];
  write(dir, {
    ".gitignore": ".gaffer/\n",
    "manifests/project.yaml": `apiVersion: gaffer/v1\nkind: Project\nmetadata:\n  name: calc\nspec:\n  repo: ../target\n  tmuxSocket: ${socket}\n  capacity:\n    global: 4\n  policy:\n    approvers: [${DEMO_APPROVER}]\n    maxGateAttempts: 2\n    maxResolveAttempts: 2\n`,
    "manifests/agents.yaml": "apiVersion: gaffer/v1\nkind: AgentPool\nmetadata:\n  name: demo\nspec:\n  agents:\n    - name: scripted\n      profile: scripted\n      capacity: 4\n      idleAfterMs: 250\n",
    "manifests/playbook.yaml": `apiVersion: gaffer/v1
kind: Playbook
metadata:
  name: demo
spec:
  stages:
    - name: plan
      approval: none
      roles:
        - {name: planner, allowedAgents: [scripted]}
      gate:
        commands: [[test, -f, PLAN.md]]
    - name: build
      needs: [plan]
      roles:
        - {name: builder, count: 3, allowedAgents: [scripted]}
        - {name: reviewer, allowedAgents: [scripted]}
      gate:
        commands: [[node, --test]]
        review: required
    - name: test
      needs: [build]
      roles:
        - {name: tester, allowedAgents: [scripted]}
      gate:
        commands: [[node, --test]]
    - name: merge
      needs: [test]
      roles:
        - {name: resolver, allowedAgents: [scripted]}
      gate:
        commands: [[node, --test]]
`,
    "manifests/tasks.yaml": tasks.join("---\n"),
  });
  await git(dir, "add", ".");
  await git(dir, "-c", `user.email=${DEMO_AUTHOR}`, "-c", "user.name=demo-author", "commit", "-q", "-m", "feat: demo manifests");
}
