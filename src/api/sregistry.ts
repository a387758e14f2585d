/**
 * `Sregistry`: the library's public face. One instance = one set of settings, one logger and one
 * catalog connection; each method is one CLI command without the formatting.
 *
 * @example
 * ```ts
 * const client = new Sregistry({ env: process.env });
 * for (const row of client.images()) console.log(row.uri);
 * client.close();
 * ```
 */
import type { ContainerRow } from "../catalog/catalog.js";
import { Context, type ContextOptions } from "./context.js";
import { get } from "./get.js";
import { images } from "./images.js";
import { inspect, type InspectResult } from "./inspect.js";
import { record, type RecordResult } from "./record.js";

export type SregistryOptions = ContextOptions;

export class Sregistry {
  readonly context: Context;

  constructor(options: SregistryOptions = {}) {
    this.context = new Context(options);
  }

  get settings() {
    return this.context.settings;
  }

  /** Records an image's manifests in the catalog (no layers). */
  record(image: string): Promise<RecordResult> {
    return record(this.context, image);
  }

  /** Catalog rows, optionally filtered by a query word. */
  images(query?: string): ContainerRow[] {
    return images(this.context, query);
  }

  /** The catalog record of an image and where it is. */
  inspect(query: string): InspectResult {
    return inspect(this.context, query);
  }

  /** Local path of an image, or its manifest URL for a remote record. */
  get(query: string): string {
    return get(this.context, query);
  }

  close(): void {
    this.context.close();
  }
}
