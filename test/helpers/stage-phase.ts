import { join } from "node:path";
import { saveStage } from "../../state/controller.repository.js";
import { LEDGER_FILE, openLedger } from "../../state/ledger.js";

/**
 * Records a stage's phase in the control dir's ledger as the controller's
 * stage machine does (`StagePhaseChanged`): what the gatekeeper reads to
 * decide whether work on the stage's tasks may go on.
 */
export async function recordStagePhase(dir: string, stage: string, phase: string): Promise<void> {
  const db = await openLedger(join(dir, LEDGER_FILE));
  try {
    await saveStage(db, { name: stage, phase, snapshot: null, actor: "controller", reason: "test fixture" });
  } finally {
    await db.destroy();
  }
}
