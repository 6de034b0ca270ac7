import { appendEvent } from "../../state/events.repository.js";
import { immediateTransaction, nowIso, type Ledger } from "../../state/ledger.js";

/**
 * Ledgers an effect before it runs (`running`) and after (`done`/`failed`),
 * under an idempotency key. When a previous attempt is still `running` (the
 * controller died mid-effect), `rollback` cleans up its half-done work first.
 */
export async function journaled<T>(db: Ledger, actor: string, effect: { readonly key: string; readonly kind: string; readonly rollback?: () => Promise<void> }, run: () => Promise<T>): Promise<T> {
  const previous = await db.selectFrom("effects").select("state").where("key", "=", effect.key).executeTakeFirst();
  if (previous?.state === "running" && effect.rollback !== undefined) {
    await effect.rollback();
    await appendEvent(db, { actor, action: "EffectRolledBack", subject: `effect/${effect.key}`, payload: { kind: effect.kind } });
  }
  await immediateTransaction(db, async (trx) => {
    const at = nowIso();
    if (previous === undefined) await trx.insertInto("effects").values({ key: effect.key, kind: effect.kind, state: "running", result: null, issued_at: at, updated_at: at }).execute();
    else await trx.updateTable("effects").set({ state: "running", updated_at: at }).where("key", "=", effect.key).execute();
    await appendEvent(trx, { actor, action: "EffectRunning", subject: `effect/${effect.key}`, payload: { kind: effect.kind, retry: previous !== undefined } });
  });
  try {
    const result = await run();
    await finish(db, actor, effect.key, "done", result);
    return result;
  } catch (error) {
    await finish(db, actor, effect.key, "failed", { error: (error as Error).message });
    throw error;
  }
}

async function finish(db: Ledger, actor: string, key: string, state: "done" | "failed", result: unknown): Promise<void> {
  await immediateTransaction(db, async (trx) => {
    await trx.updateTable("effects").set({ state, result: JSON.stringify(result ?? null), updated_at: nowIso() }).where("key", "=", key).execute();
    await appendEvent(trx, { actor, action: state === "done" ? "EffectDone" : "EffectFailed", subject: `effect/${key}`, payload: state === "failed" ? (result as Record<string, unknown>) : {} });
  });
}
