import { expect, test } from "vitest";
import { prettyJsonChunks, writeJsonChunked } from "../../controller/report/json-chunks.js";
import { seededRandom } from "../helpers/seeded-random.js";

const SEED = Number(process.env.GAFFER_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** A random JSON-ish value: nested objects and arrays, empty ones, strings that need escaping, undefined and functions. */
function randomValue(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * (depth > 3 ? 5 : 8));
  if (pick === 0) return null;
  if (pick === 1) return Math.round(rnd() * 1e6) / 100;
  if (pick === 2) return ["plain", "quote \" back \\ line\nend", "<tag>", "é ☃"][Math.floor(rnd() * 4)];
  if (pick === 3) return rnd() < 0.5;
  if (pick === 4) return rnd() < 0.5 ? undefined : () => 1;
  if (pick === 5) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`k${i}"${depth}`, randomValue(rnd, depth + 1)]));
}

test("the report's JSON in pieces is byte for byte JSON.stringify(value, null, 2) (seeded values)", () => {
  console.log(`json chunks: seed ${SEED}`);
  const rnd = seededRandom(SEED);
  for (let i = 0; i < 500; i++) {
    const value = { a: randomValue(rnd, 0), list: [randomValue(rnd, 0), randomValue(rnd, 0)], empty: [], none: {}, gone: undefined };
    expect([...prettyJsonChunks(value)].join("")).toBe(JSON.stringify(value, null, 2));
  }
  const written: string[] = [];
  const big = { rows: Array.from({ length: 5000 }, (_, i) => ({ id: `s${i}`, ms: i * 7, nested: [{ x: i }] })) };
  writeJsonChunked(big, (text) => written.push(text));
  expect(written.length).toBeGreaterThan(5);
  expect(written.join("")).toBe(`${JSON.stringify(big, null, 2)}\n`);
});
