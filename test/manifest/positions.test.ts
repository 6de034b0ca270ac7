import { describe, expect, it } from "vitest";
import { decodeUtf8, parseManifestFile, parseManifestText, type ParsedDoc } from "../../controller/manifest/parse.js";

function only(text: string): ParsedDoc {
  const result = parseManifestText("manifests/x.yaml", text);
  expect(result.issues).toEqual([]);
  expect(result.docs).toHaveLength(1);
  return result.docs[0]!;
}

const BLOCK = ["# a comment", "kind: Task", "metadata:", "  name: t", "spec:", "  stage: build", "  dependsOn:", "    - a", "    - b", "  prompt:", ""].join("\n");

describe("locate: keys and values", () => {
  const doc = only(BLOCK);

  it("points at the value by default and at the key with {key: true}", () => {
    expect(doc.locate(["spec", "stage"])).toEqual({ line: 6, column: 10 });
    expect(doc.locate(["spec", "stage"], { key: true })).toEqual({ line: 6, column: 3 });
    expect(doc.locate(["kind"])).toEqual({ line: 2, column: 7 });
    expect(doc.locate(["kind"], { key: true })).toEqual({ line: 2, column: 1 });
  });

  it("a mapping value starts at its first key; with {key: true} it is the parent key", () => {
    expect(doc.locate(["spec"])).toEqual({ line: 6, column: 3 });
    expect(doc.locate(["spec"], { key: true })).toEqual({ line: 5, column: 1 });
  });

  it("list items are located by index (at the item, even with {key: true})", () => {
    expect(doc.locate(["spec", "dependsOn", 1])).toEqual({ line: 9, column: 7 });
    expect(doc.locate(["spec", "dependsOn", 1], { key: true })).toEqual({ line: 9, column: 7 });
  });

  it("an empty value (`prompt:`) is located at its key", () => {
    expect(doc.locate(["spec", "prompt"])).toEqual({ line: 10, column: 3 });
  });

  it("a missing node falls back to the nearest existing ancestor's key", () => {
    expect(doc.locate(["spec", "role"])).toEqual({ line: 5, column: 1 });
    expect(doc.locate(["spec", "gate", "commands", 0])).toEqual({ line: 5, column: 1 });
    expect(doc.locate(["spec", "dependsOn", 7])).toEqual({ line: 7, column: 3 });
    expect(doc.locate(["nothing", "here"])).toEqual({ line: 2, column: 1 });
    expect(doc.locate([])).toEqual({ line: 2, column: 1 });
  });

  it("reads kind and metadata.name", () => {
    expect([doc.kind, doc.name, doc.index]).toEqual(["Task", "t", 0]);
  });
});

describe("locate: flow style", () => {
  const doc = only('{kind: Task, "metadata": {name: t}, spec: {dependsOn: [a, b], stage: x}}\n');

  it("keys and values inside flow mappings and sequences", () => {
    expect(doc.locate(["kind"])).toEqual({ line: 1, column: 8 });
    expect(doc.locate(["metadata"], { key: true })).toEqual({ line: 1, column: 14 });
    expect(doc.locate(["metadata", "name"])).toEqual({ line: 1, column: 33 });
    expect(doc.locate(["spec", "dependsOn", 1])).toEqual({ line: 1, column: 59 });
    expect(doc.locate(["spec", "stage"], { key: true })).toEqual({ line: 1, column: 63 });
  });

  it("a missing key in a flow mapping points at the parent's key", () => {
    expect(doc.locate(["spec", "prompt"])).toEqual({ line: 1, column: 37 });
  });
});

describe("locate: several documents in one file", () => {
  const text = ["kind: Task", "metadata: {name: one}", "---", "# second", "kind: Task", "metadata:", "  name: two", "spec: {stage: s}", "...", "---", "kind: Task", "metadata: {name: three}", ""].join("\n");
  const result = parseManifestText("manifests/x.yaml", text);

  it("positions are in file coordinates, not per document", () => {
    expect(result.issues).toEqual([]);
    expect(result.docs.map((d) => [d.index, d.name])).toEqual([[0, "one"], [1, "two"], [2, "three"]]);
    const [one, two, three] = result.docs as [ParsedDoc, ParsedDoc, ParsedDoc];
    expect(one.locate(["metadata", "name"])).toEqual({ line: 2, column: 18 });
    expect(two.locate([])).toEqual({ line: 5, column: 1 });
    expect(two.locate(["metadata", "name"])).toEqual({ line: 7, column: 9 });
    expect(two.locate(["spec", "stage"], { key: true })).toEqual({ line: 8, column: 8 });
    expect(two.locate(["spec", "prompt"])).toEqual({ line: 8, column: 1 });
    expect(three.locate(["metadata", "name"])).toEqual({ line: 12, column: 18 });
  });
});

describe("encodings and line endings", () => {
  const text = "kind: Task\nmetadata:\n  name: t\n";

  it("a UTF-8 BOM does not shift columns", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(text)]);
    const result = parseManifestFile("manifests/x.yaml", bytes);
    expect(result.issues).toEqual([]);
    const doc = result.docs[0]!;
    expect(doc.kind).toBe("Task");
    expect(doc.locate(["kind"], { key: true })).toEqual({ line: 1, column: 1 });
    expect(doc.locate(["kind"])).toEqual({ line: 1, column: 7 });
    expect(doc.locate(["metadata", "name"])).toEqual({ line: 3, column: 9 });
  });

  it("CRLF line endings count as one line break", () => {
    const doc = only(text.replace(/\n/g, "\r\n"));
    expect(doc.locate(["metadata", "name"])).toEqual({ line: 3, column: 9 });
  });

  it("columns count characters, not bytes, before a node", () => {
    const doc = only("kind: Task\nmetadata: {labels: {ü: é}, name: t}\n");
    expect(doc.locate(["metadata", "name"])).toEqual({ line: 2, column: 34 });
  });

  it("decodeUtf8 gives the position of the first invalid byte", () => {
    const bytes = new Uint8Array([...Buffer.from("a: 1\nb: x"), 0xff, ...Buffer.from("\n")]);
    expect(decodeUtf8(bytes)).toEqual({ badAt: { line: 2, column: 5 } });
    expect(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toEqual({ text: "a" });
  });
});
