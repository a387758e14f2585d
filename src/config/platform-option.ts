/**
 * The command-line platform choice: `--platform os/arch[/variant]` (the docker/crane spelling) or
 * `--arch NAME` (Apptainer's), either one overriding SREGISTRY_DOCKER_OS/_ARCHITECTURE/_VARIANT.
 *
 * `--arch` takes the names of Apptainer's `archMap` (internal/pkg/build/oci/oci.go: `amd64`,
 * `arm64`, `arm64v8`, `arm`, `arm32v5`/`v6`/`v7`, `386`, `ppc64le`, `s390x`, `riscv64`,
 * `loong64`), the `uname -m` and distribution spellings users type (`x86_64`, `aarch64`, `i386`,
 * `i686`, `armhf`, `armel`, `armv7l`, `ppc64el`) and the slash form (`arm/v7`, `arm64/v8`). It keeps
 * the OS of the settings (linux unless SREGISTRY_DOCKER_OS says otherwise). `arm64` means
 * `arm64/v8`, as in Apptainer and containerd; `arm` means `arm/v7`.
 *
 * @example
 * ```ts
 * platformFromOptions({ arch: "aarch64" }, settings.platform);   // { os: "linux", architecture: "arm64", variant: "v8" }
 * platformFromOptions({ platform: "linux/arm/v6" }, settings.platform); // { os: "linux", architecture: "arm", variant: "v6" }
 * platformFromOptions({}, settings.platform);                    // settings.platform
 * ```
 */
import type { Platform } from "../oci/types.js";
import { SregistryError } from "../util/errors.js";

export interface PlatformOptions {
  /** `os/arch[/variant]`, e.g. `linux/arm64/v8`. */
  platform?: string;
  /** An architecture name or alias, e.g. `arm64`, `aarch64`, `x86_64`, `arm32v7`. */
  arch?: string;
}

type ArchVariant = readonly [architecture: string, variant?: string];

/** Architecture names and aliases → OCI architecture and variant. */
const ARCH_NAMES: Readonly<Record<string, ArchVariant>> = {
  amd64: ["amd64"],
  x86_64: ["amd64"],
  "x86-64": ["amd64"],
  arm64: ["arm64", "v8"],
  arm64v8: ["arm64", "v8"],
  aarch64: ["arm64", "v8"],
  arm: ["arm", "v7"],
  arm32v7: ["arm", "v7"],
  armv7l: ["arm", "v7"],
  armhf: ["arm", "v7"],
  arm32v6: ["arm", "v6"],
  armv6l: ["arm", "v6"],
  armel: ["arm", "v6"],
  arm32v5: ["arm", "v5"],
  "386": ["386"],
  i386: ["386"],
  i686: ["386"],
  ppc64le: ["ppc64le"],
  ppc64el: ["ppc64le"],
  s390x: ["s390x"],
  riscv64: ["riscv64"],
  loong64: ["loong64"],
};

/** Apptainer's names, in the order the error message lists them (aliases are accepted too). */
const SHOWN_NAMES = [
  "amd64",
  "arm64",
  "arm",
  "arm32v7",
  "arm32v6",
  "arm32v5",
  "386",
  "ppc64le",
  "s390x",
  "riscv64",
  "loong64",
];

/** One os/arch/variant component: what image indexes use (lower-case Go names, `v7`, `v8`). */
const COMPONENT = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** The platform to pull: from `--platform` or `--arch` when given, else `fallback` (the settings). */
export function platformFromOptions(options: PlatformOptions, fallback: Platform): Platform {
  if (options.platform !== undefined && options.arch !== undefined) {
    throw new SregistryError("give --platform or --arch, not both", { code: "USAGE" });
  }
  if (options.platform !== undefined) return parsePlatform(options.platform);
  if (options.arch !== undefined) return { os: fallback.os, ...parseArch(options.arch) };
  return fallback;
}

/** `os/arch[/variant]`; the architecture may be any alias `--arch` knows. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split("/");
  if (parts.length < 2 || parts.length > 3 || !parts.every((part) => COMPONENT.test(part))) {
    throw new SregistryError(
      `--platform ${JSON.stringify(text)} is not os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`,
      { code: "USAGE" },
    );
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  const known = ARCH_NAMES[arch];
  const architecture = known?.[0] ?? arch;
  const chosen = variant ?? known?.[1];
  return chosen ? { os, architecture, variant: chosen } : { os, architecture };
}

/** An `--arch` name (see the module doc): architecture and variant, or an error listing the names. */
export function parseArch(text: string): { architecture: string; variant?: string } {
  const name = text.trim().toLowerCase();
  const [arch, variant, ...rest] = name.split("/");
  const known = ARCH_NAMES[arch ?? ""];
  if (!known || rest.length > 0 || (variant !== undefined && !COMPONENT.test(variant))) {
    throw new SregistryError(
      `unknown architecture ${JSON.stringify(text)} for --arch; use one of ${SHOWN_NAMES.join(", ")} ` +
        "(or x86_64, aarch64, armhf, i686, ...; or --platform os/arch/variant)",
      { code: "USAGE" },
    );
  }
  const chosen = variant ?? known[1];
  return chosen ? { architecture: known[0], variant: chosen } : { architecture: known[0] };
}
