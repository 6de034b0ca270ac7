import type { Condition, ConditionStatus } from "./status-types.js";

/** A condition to set; `lastTransitionTime` is computed. */
export interface ConditionUpdate {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: string;
}

/**
 * Pure, Kubernetes `meta.SetStatusCondition` semantics: adds or replaces the
 * condition of `next.type`; `lastTransitionTime` becomes `now` only when the
 * status changes (or the condition is new), so a pass that merely refreshes a
 * message or generation keeps the time and an unchanged pass is a no-op.
 * Other conditions keep their order; a new one is appended.
 */
export function setCondition(conditions: readonly Condition[], next: ConditionUpdate, now: string): Condition[] {
  const index = conditions.findIndex((c) => c.type === next.type);
  const previous = index === -1 ? undefined : conditions[index]!;
  const lastTransitionTime = previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : now;
  const condition: Condition = { type: next.type, status: next.status, reason: next.reason, message: next.message, lastTransitionTime, observedGeneration: next.observedGeneration };
  if (index === -1) return [...conditions, condition];
  return conditions.map((c, i) => (i === index ? condition : c));
}

export function findCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

/** Whether the condition of `type` is present with status True. */
export function isConditionTrue(conditions: readonly Condition[], type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}
