import { resolveLedgerTarget, type LedgerTarget } from "../../state/ledger-target.js";
import { readManifestSources } from "./manifest-sources.js";

/**
 * Whether a manifest file's bytes could hold a `ledger` key: the word
 * appears, or a backslash does (a double-quoted key may spell it with
 * escapes). Most control dirs name no ledger, and `gaffer log` then needs no
 * YAML parser at all.
 */
function mayNameLedger(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return text.includes("ledger") || text.includes("\\");
}

/**
 * The Project's `spec.ledger.url`, read from the manifests without
 * validating the rest: the ledger must open (for `status`, `log`, a hook)
 * even while another manifest is being fixed. Undefined when none is set or
 * there is no `manifests/` directory.
 */
export async function readLedgerUrl(dir: string): Promise<string | undefined> {
  const sources = (await readManifestSources(dir).catch(() => [])).filter((s) => s.problem === undefined);
  if (!sources.some((s) => mayNameLedger(s.bytes))) return undefined;
  const { parseManifestFile } = await import("./parse.js");
  for (const source of sources) {
    for (const doc of parseManifestFile(source.file, source.bytes).docs) {
      if (doc.kind !== "Project") continue;
      const url = (doc.value as { spec?: { ledger?: { url?: unknown } } } | null)?.spec?.ledger?.url;
      return typeof url === "string" ? url : undefined;
    }
  }
  return undefined;
}

/** The ledger of the control dir `dir`: GAFFER_LEDGER_URL, else the Project's spec.ledger.url, else its SQLite file. */
export async function ledgerTargetOf(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<LedgerTarget> {
  const fromEnv = env.GAFFER_LEDGER_URL?.trim();
  return resolveLedgerTarget(dir, fromEnv !== undefined && fromEnv !== "" ? undefined : await readLedgerUrl(dir), env);
}
