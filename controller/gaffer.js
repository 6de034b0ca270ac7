#!/usr/bin/env node
// The `gaffer` executable: registers tsx's ESM loader so the TypeScript sources run as they are.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
