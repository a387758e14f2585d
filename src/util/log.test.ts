import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LEVELS, Logger } from "./log.js";
import { registerSecret } from "./redact.js";
import { TerminalText } from "./terminal.js";

function capture(): { logger: Logger; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const logger = new Logger({
    level: LEVELS.DEBUG,
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
  });
  return { logger, out: () => out, err: () => err };
}

describe("Logger output is safe for a terminal", () => {
  it("escapes control characters on ERROR and WARNING lines and keeps each on one line", () => {
    const { logger, err } = capture();
    logger.error("registry said: \x1b]0;owned\x07\nERROR fake second line");
    logger.warning("label \u009b2J");
    assert.equal(
      err(),
      "ERROR registry said: \\u001b]0;owned\\u0007\\nERROR fake second line\n" + "WARNING label \\u009b2J\n",
    );
  });

  it("keeps newlines and tabs of INFO tables but escapes the rest", () => {
    const { logger, out } = capture();
    logger.info("a\tb\nc \x1b[2J");
    assert.equal(out(), "a\tb\nc \\u001b[2J\n");
  });

  it("escapes VERBOSE, DEBUG and LOG lines", () => {
    const { logger, out, err } = capture();
    logger.debug("GET \x1b[31m");
    logger.verbose("\x9b");
    logger.log("\x07");
    assert.equal(err(), "DEBUG GET \\u001b[31m\nVERBOSE \\u009b\n");
    assert.equal(out(), "LOG \\u0007\n");
  });

  it("prints TerminalText as given (our own colours), still redacted", () => {
    registerSecret("sekret-key-123");
    const { logger, out } = capture();
    logger.info(TerminalText.trusted("\x1b[91mContainers:\x1b[0m sekret-key-123"));
    assert.equal(out(), "\x1b[91mContainers:\x1b[0m ***\n");
  });

  it("redacts a secret even when control characters surround it", () => {
    registerSecret("another-secret-456");
    const { logger, err } = capture();
    logger.error("\x1banother-secret-456\x07");
    assert.equal(err(), "ERROR \\u001b***\\u0007\n");
  });
});
