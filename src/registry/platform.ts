/**
 * Choosing the image for a platform from an index / manifest list.
 *
 * Platforms are normalised like containerd's: `x86_64`/`x86-64` → `amd64`, `aarch64` → `arm64`,
 * arm64's variant `8`/`v8`/none → `v8`, arm's none/`7` → `v7`, `armhf` → arm/v7, `armel` → arm/v6,
 * `i386` → `386`. A 32-bit arm request also accepts lower variants, best first (v7 takes v7, then
 * v6, then v5). Attestation manifests (`vnd.docker.reference.type` annotation, `unknown/unknown`
 * platform) and non-image entries are ignored. An index whose entries carry no platform at all and
 * hold exactly one image is taken as that image.
 *
 * @example
 * ```ts
 * const desc = selectPlatform(index, { os: "linux", architecture: "arm64" }, "nvcr.io/nvidia/cuda:12.0");
 * ```
 */
import { formatPlatform } from "../oci/platform.js";
import { SregistryError } from "../util/errors.js";
import { MediaType, type Descriptor, type ImageIndex, type Platform } from "../oci/types.js";

interface Normal {
  os: string;
  architecture: string;
  variant: string;
}

const IMAGE_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);

export function normalizePlatform(p: Platform): Normal {
  const os = p.os.toLowerCase() === "macos" ? "darwin" : p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? "").toLowerCase();
  switch (architecture) {
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "i386":
    case "i686":
      architecture = "386";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "" || variant === "8" || variant === "v8" || variant === "v8.0") variant = "v8";
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return { os, architecture, variant };
}

/** 0 for an exact match, higher for acceptable fallbacks, undefined for no match. */
export function platformRank(candidate: Platform, want: Platform): number | undefined {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(want);
  if (c.os !== w.os || c.architecture !== w.architecture) return undefined;
  if (c.variant === w.variant) return 0;
  if (w.architecture === "arm") {
    const order = ["v8", "v7", "v6", "v5"];
    const wi = order.indexOf(w.variant);
    const ci = order.indexOf(c.variant);
    if (wi >= 0 && ci > wi) return ci - wi;
  }
  return undefined;
}

/** True for entries that are attestations or other non-runnable artefacts. */
export function isAttestation(d: Descriptor): boolean {
  if (d.annotations?.["vnd.docker.reference.type"] !== undefined) return true;
  return d.platform?.os === "unknown" || d.platform?.architecture === "unknown";
}

export function selectPlatform(index: ImageIndex, want: Platform, reference: string): Descriptor {
  const images = index.manifests.filter((d) => IMAGE_TYPES.has(d.mediaType) && !isAttestation(d));
  let best: { d: Descriptor; rank: number } | undefined;
  for (const d of images) {
    if (!d.platform) continue;
    const rank = platformRank(d.platform, want);
    if (rank !== undefined && (best === undefined || rank < best.rank)) best = { d, rank };
  }
  if (best) return best.d;
  const only = images[0];
  if (images.length === 1 && only && !only.platform) return only;
  if (images.length === 0) throw noImageManifest(index, reference);
  const available = images.filter((d) => d.platform).map((d) => formatPlatform(d.platform!));
  throw new SregistryError(
    `no image for ${formatPlatform(want)} in ${reference}; available: ${available.join(", ") || "none"}`,
    { code: "PLATFORM" },
  );
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);

/**
 * Why an index offers no image at all: it holds only nested indexes (not followed: a platform is
 * chosen in one index level), only attestations, or nothing.
 */
function noImageManifest(index: ImageIndex, reference: string): SregistryError {
  const nested = index.manifests.filter((d) => INDEX_TYPES.has(d.mediaType)).length;
  const why =
    nested === index.manifests.length && nested > 0
      ? `holds only nested indexes (${nested}), which are not followed; pull one of them by digest`
      : index.manifests.length === 0
        ? "is empty"
        : "holds no image manifest (only attestations or other artefacts)";
  return new SregistryError(`the index of ${reference} ${why}`, { code: "PLATFORM" });
}
