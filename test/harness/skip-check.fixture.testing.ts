// A test file with one skip, run by skip-check.test.ts through the skip reporter and checker.
import { it } from "node:test";

it("runs", () => {});
it("needs a machine this is not", { skip: "fixture: always skipped" }, () => {});
