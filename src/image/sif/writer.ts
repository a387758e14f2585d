/**
 * Writes SIF files: header, descriptors and the small objects (`writeSifHead`), the partition by
 * copying (`copyPartition`) or in place by the squashfs builder, and the one-call `createSif`.
 *
 * Two ways to get the squashfs partition into the file:
 * - copy: `createSif(tmp, { …, partition: { path: "rootfs.sqfs", arch } })`.
 * - in place (no second copy of a multi-GB file): take `sifPartitionOffset(meta)`, let
 *   `mksquashfs <dir> <tmp> -noappend -o <offset>` or `sqfstar -force -o <offset> <tmp>` write the
 *   squashfs straight into the target file, then `createSif(tmp, { …, partition: { arch } })`.
 *   Both tools (4.5.1) *truncate* the file and leave zeros before the offset, so the head must be
 *   written after them — which `createSif` does.
 *
 * The header is always written last, so an interrupted write leaves no valid SIF magic; write to
 * a temporary name and rename it into place (the caller's job).
 *
 * @example
 * ```ts
 * const meta = { definition, inspectMetadata, ociConfig };
 * const offset = sifPartitionOffset(meta);
 * await run("mksquashfs", [rootfs, tmp, "-noappend", "-comp", "gzip", "-o", String(offset)]);
 * const plan = await createSif(tmp, { ...meta, partition: { arch: "amd64" }, deterministicId: key });
 * await rename(tmp, final);
 * ```
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { SregistryError } from "../../util/errors.js";
import { encodeDescriptors, encodeHeader } from "./encode.js";
import { DESCRIPTORS_OFFSET, HEADER_SIZE, planSif, type SifObjectSpec, type SifPlan } from "./layout.js";

/** The three metadata objects of a pulled image, in descriptor order after the deffile. */
export interface SifMetadataObjects {
  definition: string | Buffer;
  inspectMetadata: string | Buffer;
  ociConfig: string | Buffer;
}

export interface CreateSifOptions extends SifMetadataObjects {
  partition: {
    /** A squashfs file to copy in; omit when the squashfs was already written in place. */
    path?: string;
    /** Partition length; default the source file's size, or (in place) file size − offset. */
    size?: number;
    /** GOARCH of the image. */
    arch: string;
  };
  /** Makes the image ID a function of this string (manifest digest + platform + options). */
  deterministicId?: string;
  /** Header and object times; default now, or Go's zero time when `deterministicId` is given. */
  created?: Date | "zero";
}

const SQUASHFS_MAGIC = Buffer.from("hsqs", "ascii");
const COPY_CHUNK = 4 * 1024 * 1024;

/** Descriptor specs of a pulled image: deffile, inspect-metadata.json, oci-config.json, partition. */
export function sifObjectSpecs(
  meta: SifMetadataObjects,
  partition: { size: number; arch: string },
): SifObjectSpec[] {
  return [
    { type: "deffile", size: byteLength(meta.definition) },
    { type: "json", name: "inspect-metadata.json", size: byteLength(meta.inspectMetadata) },
    { type: "json", name: "oci-config.json", size: byteLength(meta.ociConfig) },
    {
      type: "partition",
      size: partition.size,
      partition: { fs: "squashfs", type: "primsys", arch: partition.arch },
    },
  ];
}

/** Where the squashfs partition of an image with these metadata objects starts. */
export function sifPartitionOffset(meta: SifMetadataObjects): number {
  const plan = planSif(sifObjectSpecs(meta, { size: 0, arch: "" }), {
    id: new Uint8Array(16),
    created: "zero",
  });
  return plan.partitionOffset ?? 0;
}

/**
 * Writes everything but the partition bytes: the small objects in plan order, the descriptors,
 * and the header last. `smallObjects` are the contents of the non-partition objects, in order.
 * The file is cut to the plan's length.
 */
export async function writeSifHead(
  fd: FileHandle,
  plan: SifPlan,
  smallObjects: readonly Buffer[],
): Promise<void> {
  const small = plan.objects.filter((o) => o.type !== "partition");
  if (small.length !== smallObjects.length) {
    throw new SregistryError(`SIF plan has ${small.length} metadata objects, ${smallObjects.length} given`);
  }
  const prefix = Buffer.alloc(plan.partitionOffset ?? plan.fileSize);
  encodeDescriptors(plan).copy(prefix, DESCRIPTORS_OFFSET);
  const outside: [Buffer, number][] = [];
  small.forEach((object, index) => {
    const content = smallObjects[index] ?? Buffer.alloc(0);
    if (content.length !== object.size) {
      throw new SregistryError(`SIF object ${object.id} is ${content.length} bytes, planned ${object.size}`);
    }
    if (object.offset + object.size <= prefix.length) content.copy(prefix, object.offset);
    else outside.push([content, object.offset]);
  });
  await writeAll(fd, prefix.subarray(HEADER_SIZE), HEADER_SIZE);
  for (const [content, offset] of outside) await writeAll(fd, content, offset);
  await fd.truncate(plan.fileSize);
  await writeAll(fd, encodeHeader(plan), 0);
}

/** Copies a squashfs file into the plan's partition slot (the fallback to in-place building). */
export async function copyPartition(fd: FileHandle, plan: SifPlan, srcPath: string): Promise<void> {
  const partition = plan.objects.find((o) => o.type === "partition");
  if (partition === undefined) throw new SregistryError("the SIF plan has no partition");
  const src = await open(srcPath, "r");
  try {
    const chunk = Buffer.alloc(Math.min(COPY_CHUNK, Math.max(partition.size, 1)));
    let copied = 0;
    for (;;) {
      const { bytesRead } = await src.read(chunk, 0, chunk.length, copied);
      if (bytesRead === 0) break;
      await writeAll(fd, chunk.subarray(0, bytesRead), partition.offset + copied);
      copied += bytesRead;
    }
    if (copied !== partition.size) {
      throw new SregistryError(`${srcPath} has ${copied} bytes, the SIF plan expected ${partition.size}`);
    }
  } finally {
    await src.close();
  }
}

/** Writes a complete SIF at `path` (a temporary name: the caller renames it). Returns the plan. */
export async function createSif(path: string, options: CreateSifOptions): Promise<SifPlan> {
  const inPlace = options.partition.path === undefined;
  const offset = sifPartitionOffset(options);
  const size = options.partition.size ?? (await partitionSize(path, options.partition.path, offset));
  const plan = planSif(sifObjectSpecs(options, { size, arch: options.partition.arch }), {
    ...(options.deterministicId === undefined ? {} : { id: { deterministicFrom: options.deterministicId } }),
    created: options.created ?? (options.deterministicId === undefined ? new Date() : "zero"),
  });
  const fd = await open(path, inPlace ? "r+" : "w+");
  try {
    if (options.partition.path !== undefined) await copyPartition(fd, plan, options.partition.path);
    await checkSquashfsMagic(fd, plan.partitionOffset ?? 0, path);
    const small = [options.definition, options.inspectMetadata, options.ociConfig].map(toBuffer);
    await writeSifHead(fd, plan, small);
    await fd.sync();
  } finally {
    await fd.close();
  }
  return plan;
}

async function partitionSize(target: string, source: string | undefined, offset: number): Promise<number> {
  if (source !== undefined) return (await stat(source)).size;
  const size = (await stat(target)).size - offset;
  if (size <= 0) throw new SregistryError(`${target} holds no squashfs at offset ${offset}`);
  return size;
}

async function checkSquashfsMagic(fd: FileHandle, offset: number, path: string): Promise<void> {
  const magic = Buffer.alloc(4);
  await fd.read(magic, 0, 4, offset);
  if (!magic.equals(SQUASHFS_MAGIC)) {
    throw new SregistryError(`${path}: no squashfs superblock at offset ${offset}; cannot build the SIF`);
  }
}

async function writeAll(fd: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fd.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === "string" ? Buffer.from(value, "utf8") : value;
}

function byteLength(value: string | Buffer): number {
  return typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
}
