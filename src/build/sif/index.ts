/**
 * SIF (Singularity Image Format) writing and reading.
 *
 * @example
 * ```ts
 * import { createSif, sifPartitionOffset, readSif } from "../build/sif/index.js";
 * const offset = sifPartitionOffset(meta); // give it to mksquashfs/sqfstar -o
 * await createSif(tmpPath, { ...meta, partition: { arch: "amd64" }, deterministicId });
 * const { header, descriptors } = await readSif(tmpPath);
 * ```
 */
export {
  planSif,
  sifArchCode,
  deterministicUuid,
  uuidString,
  DataType,
  ZERO_TIME,
  type SifObjectSpec,
  type SifPartitionSpec,
  type SifPlan,
  type SifPlanOptions,
  type PlannedObject,
} from "./layout.js";
export { encodeHeader, encodeDescriptor, encodeDescriptors } from "./encode.js";
export {
  createSif,
  writeSifHead,
  copyPartition,
  sifObjectSpecs,
  sifPartitionOffset,
  type CreateSifOptions,
  type SifMetadataObjects,
} from "./writer.js";
export { readSif, readSifObject, type SifInfo, type SifHeader, type SifDescriptor } from "./reader.js";
export { checkSifFile, type SifVerdict } from "./validate.js";
