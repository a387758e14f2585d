/**
 * What `add` accepts as a source file, checked before anything moves.
 *
 * - The path must exist (`Cannot find <path>`, the original's text) and be a regular file.
 * - A symbolic link is refused without `copy`: moving the link into storage would leave a
 *   catalogued "image" pointing outside storage (at `/etc/passwd`, say). With `copy` the file it
 *   points to is the source, checked like any other.
 * - The content must be a well-formed SIF (image/sif/validate.ts). A file with no SIF magic
 *   (Singularity 2 `.simg`/`.img`, or anything else) is accepted only with `force`; an empty file
 *   and a damaged SIF (magic present, header or a descriptor pointing outside the file) never are.
 *
 * `checkStaged` repeats the checks on the file staged in storage, so a source that changed after
 * the first check (a link re-pointed, a file rewritten or swapped for a link) cannot slip in.
 *
 * @example
 * ```ts
 * const source = await checkedSource("hello.sif", { copy: false, force: false }); // absolute path
 * ```
 */
import { lstat, realpath, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { checkSifFile } from "../image/sif/validate.js";
import { SregistryError, isErrnoCode } from "../util/errors.js";

/** The absolute path of the file to read (a link's target with `copy`), after every check. */
export async function checkedSource(
  file: string,
  options: { copy: boolean; force: boolean },
): Promise<string> {
  const given = resolve(file);
  const link = await statOrFail(file, () => lstat(given));
  let source = given;
  if (link.isSymbolicLink()) {
    if (!options.copy) {
      throw new SregistryError(
        `${file} is a symbolic link; a link is never moved into storage: add --copy to copy the file it points to`,
        { code: "SYMLINK" },
      );
    }
    source = await statOrFail(file, () => realpath(given));
  }
  const info = source === given ? link : await statOrFail(file, () => stat(source));
  if (!info.isFile()) throw new SregistryError(`${file} is not a file`, { code: "NOT_FOUND" });
  await checkContent(source, file, options.force);
  return source;
}

/**
 * The checks again, on the staged file (named after what the user gave): still a regular file
 * (the source was not swapped for a link between the check and the move) with the same verdict.
 */
export async function checkStaged(stage: string, file: string, force: boolean): Promise<void> {
  if (!(await lstat(stage)).isFile()) {
    throw new SregistryError(`${file} changed into something other than a file while being added`, {
      code: "NOT_FOUND",
    });
  }
  await checkContent(stage, file, force);
}

async function checkContent(path: string, shown: string, force: boolean): Promise<void> {
  const verdict = await checkSifFile(path);
  switch (verdict.kind) {
    case "sif":
      return;
    case "empty":
      throw new SregistryError(`${shown} is empty; it is not an image`, { code: "NOT_AN_IMAGE" });
    case "damaged":
      throw new SregistryError(`${shown} is a damaged SIF image: ${verdict.reason}; not added`, {
        code: "NOT_AN_IMAGE",
      });
    case "notSif":
      if (force) return;
      throw new SregistryError(
        `${shown} is not a SIF image (no SIF magic); use --force to add a file of another format anyway`,
        { code: "NOT_AN_IMAGE" },
      );
  }
}

async function statOrFail<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isErrnoCode(err, "ENOENT") || isErrnoCode(err, "ENOTDIR")) {
      throw new SregistryError(`Cannot find ${file}`, { code: "NOT_FOUND" });
    }
    throw new SregistryError(`Cannot read ${file}: ${(err as Error).message}`, { code: "IO", cause: err });
  }
}
