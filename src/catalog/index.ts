/**
 * The catalog layer: the `sregistry.db` SQLite catalog (compatible with the original tool) and the
 * storage layout of image files.
 *
 * @example
 * ```ts
 * import { openCatalog, storagePath, placeFile, formatImagesTable } from "../catalog/index.js";
 * const catalog = openCatalog(dbPath);
 * process.stdout.write(formatImagesTable(catalog.listContainers(), { color: false }));
 * ```
 */
export {
  openCatalog,
  migrate,
  appliedVersions,
  BUSY_TIMEOUT_MS,
  type OpenCatalogOptions,
} from "./database.js";
export {
  Catalog,
  containerUri,
  parseMetrics,
  serializeMetrics,
  type CollectionRow,
  type ContainerQuery,
  type ContainerRow,
  type ContainerUpdate,
  type LabelMatch,
  type UpsertInput,
} from "./catalog.js";
export { COLLECTION_DDL, CONTAINER_DDL, MIGRATIONS, type Migration } from "./schema.js";
export { inspectRecord, formatInspectJson, type InspectRecord } from "./inspect.js";
export { formatImagesTable, type ImagesRow } from "./images-format.js";
export {
  labelsFromMetrics,
  matchesLabel,
  NON_LABEL_TOP_LEVEL_KEYS,
  type Label,
  type LabelQuery,
} from "./labels.js";
export { PyFloat, PyInt, parsePythonJson, pythonJsonDumps, pythonFloatRepr } from "./python-json.js";
export { formatDbTimestamp, formatLongDate, parseDbTimestamp, pythonDatetimeString } from "./timestamps.js";
export {
  placeFile,
  removeEmptyDirs,
  sha256File,
  storagePath,
  type PlaceFileOptions,
  type StorageName,
} from "./storage.js";
