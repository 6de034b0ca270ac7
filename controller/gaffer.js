#!/usr/bin/env node
// The `gaffer` executable. It runs the TypeScript sources as an esbuild
// bundle (split in chunks) cached under .gaffer-build/, keyed by the sources' paths, sizes and
// mtimes: an edit rebuilds on the next run (~100 ms), otherwise start-up pays
// no transpiler. GAFFER_NO_BUNDLE=1 runs through tsx's loader instead.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The `.ts` files under `dir`, relative, by walking it (`readdirSync`'s `recursive` option joins and normalises every path: ~4x slower). */
function tsFiles(dir, rel, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) tsFiles(`${dir}/${entry.name}`, `${rel}${entry.name}/`, out);
    else if (entry.name.endsWith(".ts")) out.push(`${rel}${entry.name}`);
  }
  return out;
}

function sourceKey() {
  const hash = createHash("sha1");
  for (const top of ["controller", "state", "package.json", "controller/gaffer.js"]) {
    const base = join(root, top);
    const files = top.endsWith(".json") || top.endsWith(".js") ? [""] : tsFiles(base, "", []).sort();
    // Plain concatenation: path.join's normalising of every name cost more than the stat calls.
    for (const file of files) {
      const stat = statSync(file === "" ? base : `${base}/${file}`);
      hash.update(`${top}/${file}:${stat.size}:${stat.mtimeMs}\n`);
    }
  }
  return hash.digest("hex").slice(0, 16);
}

// `gaffer hook` (called by agents on every lifecycle event) runs its own small bundle: it starts ~3x faster.
const entry = process.argv[2] === "hook" ? { name: "hook", source: join(root, "controller", "hooks", "hook-main.ts") } : { name: "gaffer", source: join(root, "controller", "main.ts") };

async function bundlePath() {
  const dir = join(root, ".gaffer-build");
  const outDir = join(dir, `${entry.name}-${sourceKey()}`);
  const out = join(outDir, `${entry.name}.mjs`);
  if (existsSync(out)) return out;
  const esbuild = await import("esbuild");
  const tmpDir = `${outDir}.${process.pid}.tmp`;
  mkdirSync(tmpDir, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: { [entry.name]: entry.source },
      outdir: tmpDir,
      outExtension: { ".js": ".mjs" },
      // A command loads what it imports lazily (`gaffer mcp`: the MCP SDK and zod) only when it runs.
      splitting: true,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      // Whitespace and syntax only (names kept for stack traces and error classes): fewer bytes to read and compile at every start.
      minifyWhitespace: true,
      minifySyntax: true,
      // Bundling the pure-JS dependencies too makes start-up ~3x faster (a few files instead of hundreds).
      external: ["better-sqlite3", "esbuild", "tsx", "pino", "pino-pretty", "thread-stream", "chokidar", "playwright-core"],
      banner: { js: "import { createRequire as __gafferCreateRequire } from 'node:module'; const require = __gafferCreateRequire(import.meta.url);" },
      sourcemap: "linked",
      logLevel: "error",
    });
  } finally {
    // esbuild's service process otherwise lives as long as this one and pings it every second (a
    // `gaffer up` woken all day long).
    await esbuild.stop();
  }
  // The whole directory by one rename: a concurrent run sees every chunk or none (a run that lost the race uses the winner's).
  try {
    renameSync(tmpDir, outDir);
  } catch {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  for (const old of readdirSync(dir)) if (old.startsWith(`${entry.name}-`) && join(dir, old) !== outDir && !old.endsWith(".tmp")) rmSync(join(dir, old), { recursive: true, force: true });
  return out;
}

async function runWithTsx() {
  const { register } = await import("tsx/esm/api");
  register();
  await import(entry.name === "hook" ? "./hooks/hook-main.ts" : "./main.ts");
}

let bundle = null;
if (process.env.GAFFER_NO_BUNDLE !== "1") {
  try {
    bundle = await bundlePath();
  } catch {
    // A read-only install (or no esbuild): run the sources through tsx instead.
  }
}
if (bundle === null) {
  await runWithTsx();
} else {
  // With GAFFER_DEBUG=1 stack traces point at the .ts sources (loading the map costs ~50 ms, so only then).
  if (process.env.GAFFER_DEBUG === "1") process.setSourceMapsEnabled?.(true);
  await import(pathToFileURL(bundle).href);
}
