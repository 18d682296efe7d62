// The backup detail's note on files the application changed or removed while they were
// archived (decision 168), rendered on the server as Next does, from manifest parts as the
// API gives them.
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { FilesChangedNote } from "../components/backups/files-changed-note";

const text = (part: Record<string, unknown> | undefined) =>
  renderToStaticMarkup(createElement(FilesChangedNote, { part })).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();

describe("the files-changed note on a backup's page", () => {
  it("is absent when the files held still, or there is no files part", () => {
    expect(text(undefined)).toBe("");
    expect(text({ name: "files", sizeBytes: 10 })).toBe("");
  });

  it("names each changed file with how, says how many more, and how many were removed", () => {
    const t = text({
      name: "files",
      changedWhileArchived: { count: 23, names: ["exports/nightly.csv (cut short while it was read: 2097152 of 33554432 bytes; archived with 31457280 bytes of zeros at its end)", "log.bin (written to while it was read; archived as read)"] },
      removedWhileArchived: 1,
    });
    expect(t).toBe(
      "23 files were changed by the application while this backup archived the files; they are restored as read. " +
        "exports/nightly.csv (cut short while it was read: 2097152 of 33554432 bytes; archived with 31457280 bytes of zeros at its end) " +
        "log.bin (written to while it was read; archived as read) and 21 more " +
        "One file was removed while the files were archived, and is not in it.",
    );
  });

  it("speaks of one file as one", () => {
    expect(text({ name: "files", changedWhileArchived: { count: 1, names: ["a.txt (written to while it was read; archived as read)"] } })).toBe(
      "One file was changed by the application while this backup archived the files; it is restored as read. a.txt (written to while it was read; archived as read)",
    );
  });
});
