/** Input fields shared by several tools (zod, with the descriptions clients show). */
import { z } from "zod";

export const stageArg = z.string().min(1).describe("Playbook stage name (e.g. build)");
export const taskArg = z.string().min(1).describe("Task name (metadata.name of a Task manifest)");
export const sessionArg = z.string().min(1).describe("explicit session id (from create_session); there is no default session");
