/**
 * Test support (not exported from the package): a tiny, valid SIF holding some text, built
 * synchronously with the real layout and encoders, so catalog tests can add "images" without
 * running a squashfs tool. Same text → same bytes (fixed ID, Go's zero time).
 *
 * @example
 * ```ts
 * writeFileSync(path, tinySif("hello"));
 * sha256(tinySif("hello")); // the version `add` will record
 * ```
 */
import { encodeDescriptors, encodeHeader } from "./encode.js";
import { DESCRIPTORS_OFFSET, planSif } from "./layout.js";

/** A SIF with one generic JSON object whose bytes are `content`. */
export function tinySif(content: string | Buffer): Buffer {
  const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const plan = planSif([{ type: "json", name: "content", size: data.length }], {
    id: new Uint8Array(16),
    created: "zero",
  });
  const file = Buffer.alloc(plan.fileSize);
  encodeHeader(plan).copy(file, 0);
  encodeDescriptors(plan).copy(file, DESCRIPTORS_OFFSET);
  data.copy(file, plan.objects[0]!.offset);
  return file;
}
