/**
 * Lexical path cleaning for tar entry names, as umoci's `CleanPath`: the name is joined to `/` and
 * cleaned, so `../../etc/passwd`, `/etc/passwd` and `./etc//passwd` all become `etc/passwd`. The
 * result is a list of components; the root is the empty list. Symlinks are not looked at here;
 * that is the tree's job (see tree.ts `resolveDir`).
 *
 * @example
 * ```ts
 * cleanComponents("../../etc/./passwd"); // ["etc", "passwd"]
 * cleanComponents("./");                  // []  (the root)
 * joinComponents(["usr", "bin"]);         // "usr/bin"
 * ```
 */

/** Splits and cleans a (binary-string) path; `..` never climbs above the root. */
export function cleanComponents(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out;
}

export function joinComponents(components: readonly string[]): string {
  return components.join("/");
}
