/**
 * The `inspect-metadata.json` SIF object: what `apptainer inspect --all --json` prints for the image,
 * precomputed at build time so that `inspect` does not need to open the squashfs.
 *
 * Shape chosen (Apptainer's `inspect.Metadata`, same keys and order as its Go struct, written
 * compactly as `json.Marshal` does):
 * `{"data":{"attributes":{"labels":{…},"deffile":"…","runscript":"…","startscript":"…",
 * "environment":{"/.singularity.d/env/10-docker2singularity.sh":"…", …}}},"type":"container"}`.
 * Text values lose their trailing newlines (Apptainer trims them when reading the files); empty
 * values and the `test`/`helpfile`/`apps` members absent from a plain pull are omitted. The
 * environment map holds `10-docker*.sh` and `9*-environment.sh`, the files `inspect -e` shows.
 *
 * @example
 * ```ts
 * inspectMetadata({ labels: new Map([["a", "b"]]), deffile: "bootstrap: docker\nfrom: alpine\n\n",
 *   runscript: "#!/bin/sh\n…", startscript: "#!/bin/sh\n", environment: { "/.singularity.d/env/90-environment.sh": "#!/bin/sh\n" } });
 * ```
 */
import { goJson, type GoJsonValue } from "./go-json.js";

export interface InspectAttributes {
  labels: Map<string, string> | Record<string, string>;
  deffile: string;
  runscript: string;
  startscript?: string;
  test?: string;
  helpfile?: string;
  /** Environment script texts keyed by absolute path in the image. */
  environment: Record<string, string>;
}

/** The JSON text of the inspect metadata. */
export function inspectMetadata(attributes: InspectAttributes): string {
  return goJson(inspectMetadataValue(attributes));
}

/** The same document as a value (e.g. for `sregistry inspect` output). */
export function inspectMetadataValue(attributes: InspectAttributes): GoJsonValue {
  const attrs: { [key: string]: GoJsonValue } = {};
  const labels = toMap(attributes.labels);
  if (labels.size > 0) attrs.labels = labels;
  setText(attrs, "deffile", attributes.deffile);
  setText(attrs, "runscript", attributes.runscript);
  setText(attrs, "test", attributes.test);
  setText(attrs, "helpfile", attributes.helpfile);
  setText(attrs, "startscript", attributes.startscript);
  const environment = new Map(Object.entries(attributes.environment).map(([k, v]) => [k, trimEnd(v)]));
  if (environment.size > 0) attrs.environment = environment;
  return { data: { attributes: attrs }, type: "container" };
}

function setText(target: { [key: string]: GoJsonValue }, key: string, value: string | undefined): void {
  const text = trimEnd(value ?? "");
  if (text !== "") target[key] = text;
}

function trimEnd(text: string): string {
  return text.replace(/\n+$/, "");
}

function toMap(labels: Map<string, string> | Record<string, string>): Map<string, string> {
  return labels instanceof Map ? labels : new Map(Object.entries(labels));
}
