import { describe, expect, it } from "vitest";
import { takeBatch } from "./streamed-restore";

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
