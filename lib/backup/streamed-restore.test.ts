import { describe, expect, it } from "vitest";
import { restPasses, takeBatch } from "./streamed-restore";

const b = (start: number, end?: number) => ({ start, end });

describe("takeBatch: which blocks one loader takes", () => {
  it("takes a block alone when it is bigger than the budget", () => {
    expect(takeBatch([b(0, 100), b(100, 110)], 0, 50)).toEqual([b(0, 100)]);
  });

  it("takes small blocks after the first while they fit the budget", () => {
    const blocks = [b(0, 10), b(10, 20), b(20, 30), b(30, 45), b(45, 50)];
    expect(takeBatch(blocks, 0, 30)).toEqual([b(0, 10), b(10, 20), b(20, 30)]);
    expect(takeBatch(blocks, 3, 30)).toEqual([b(30, 45), b(45, 50)]);
  });

  it("a block still arriving is the last one taken, and a first one still arriving is taken alone", () => {
    expect(takeBatch([b(0, 10), b(10), b(20)], 0, 100)).toEqual([b(0, 10), b(10)]);
    expect(takeBatch([b(0), b(10, 20)], 0, 100)).toEqual([b(0)]);
  });

  it("with a budget of one byte every block goes alone", () => {
    const blocks = [b(0, 10), b(10, 20), b(20)];
    expect(takeBatch(blocks, 0, 1)).toEqual([b(0, 10)]);
    expect(takeBatch(blocks, 1, 1)).toEqual([b(10, 20)]);
    expect(takeBatch(blocks, 2, 1)).toEqual([b(20)]);
  });

  it("a part of a table's rows goes alone, and a batch of whole blocks stops before one", () => {
    const part = (start: number, end: number, f: { cont?: boolean; cut?: boolean }) => ({ start, end, ...f });
    const blocks = [b(0, 10), b(10, 20), part(20, 30, { cut: true }), part(30, 40, { cont: true, cut: true }), part(40, 45, { cont: true }), b(45, 50)];
    expect(takeBatch(blocks, 0, 100)).toEqual([b(0, 10), b(10, 20)]);
    expect(takeBatch(blocks, 2, 100)).toEqual([blocks[2]]);
    expect(takeBatch(blocks, 3, 100)).toEqual([blocks[3]]);
    expect(takeBatch(blocks, 4, 100)).toEqual([blocks[4]]);
    expect(takeBatch(blocks, 5, 100)).toEqual([b(45, 50)]);
  });
});

describe("restPasses: partitioned indexes' attachments one at a time", () => {
  const e = (dumpId: number, desc: string, deps: number[] = []) => ({ dumpId, desc, deps });

  it("keeps a single parallel run when nothing is attached", () => {
    expect(restPasses([e(10, "INDEX"), e(11, "CONSTRAINT"), e(12, "FK CONSTRAINT", [11])])).toEqual({ parallel: [10, 11, 12], attach: [], after: [] });
  });

  it("runs the attachments alone, and what depends on them (at any depth) after them", () => {
    // 20/21: keys of the top and middle tables; 22/23: leaves; 30–32: attachments; 40: a
    // foreign key to the top table (pg_dump makes it depend on every attachment below);
    // 41: its comment; 42: an unrelated index, before and after in archive order.
    const entries = [
      e(20, "CONSTRAINT"), e(21, "CONSTRAINT"), e(22, "CONSTRAINT"), e(23, "CONSTRAINT"),
      e(30, "INDEX ATTACH", [20, 21]), e(31, "INDEX ATTACH", [21, 22]), e(32, "INDEX ATTACH", [20, 23]),
      e(40, "FK CONSTRAINT", [20, 30, 31, 32]), e(41, "COMMENT", [40]), e(42, "INDEX"),
    ];
    expect(restPasses(entries)).toEqual({ parallel: [20, 21, 22, 23, 42], attach: [30, 31, 32], after: [40, 41] });
  });
});
