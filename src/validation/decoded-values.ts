/**
 * Reading a VirtualService's JSON the way istiod's decoder (golang/protobuf jsonpb) fills the Go
 * proto: `null` leaves a field unset, or Go's zero value inside a list or map. A value of the wrong
 * JSON type fails decoding, which the CRD schema refuses first; the checks here skip it.
 */

/** A message or scalar field that is present: not absent, not `null`. */
export const isSet = (v: unknown) => v !== undefined && v !== null;

export const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** A string in a list or map: `null` decodes as "", another type not at all (undefined). */
export function decodedString(value: unknown): string | undefined {
  if (value === null) return "";
  return typeof value === "string" ? value : undefined;
}
