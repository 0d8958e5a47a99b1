export { type LoadOptions, loadManifests, STDIN_NAME } from "./load.js";
export { isPlainObject, parseManifests } from "./parse.js";
export { type SchemaIssue, type SchemaIssueCode, type SchemaResult, validateSchema } from "./schema.js";
export {
  apiGroup,
  type FieldPath,
  formatPath,
  type ManifestDocument,
  type ManifestProblem,
  type ManifestProblemCode,
  type ManifestSet,
  objectRef,
} from "./types.js";
