/** The package version, read once from package.json so there is a single source of truth. */
import { readFileSync } from "node:fs";

function readVersion(): string {
  // Works from src/ (tsx) and from dist/src/ (compiled): walk up until package.json is found.
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "sregistry" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

export const VERSION = readVersion();
