/** The environment marker of a gaffer session: its id, set in every session's pane and inherited by what the agent runs. */
export const SESSION_ENV = "GAFFER_SESSION";

/** The session id this process runs inside of (`GAFFER_SESSION`), or null outside any gaffer session. */
export function insideSession(env: NodeJS.ProcessEnv = process.env): string | null {
  const id = env[SESSION_ENV];
  return id === undefined || id.trim() === "" ? null : id;
}
