/**
 * Kubernetes-style pod names: `<deployment>-<pod-template-hash>-<5 chars>`.
 *
 * The Deployment controller hashes the pod template with FNV-32a and writes the decimal result
 * through `rand.SafeEncodeString`, which maps every character onto an alphabet without vowels or
 * look-alike digits (so no words and no 0/1/3 confusion). The ReplicaSet adds five random characters
 * of the same alphabet. Kubernetes feeds Go's printed struct to the hash; the mesh feeds the template
 * as canonical JSON (keys sorted), so the hash is stable for a given manifest and changes with every
 * template change, such as the `kubectl.kubernetes.io/restartedAt` annotation of a rollout restart.
 */
import { randomInt } from "node:crypto";

import { canonicalJson } from "../manifests/canonical-json.js";
export const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function safeEncode(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The pod-template-hash label value of a template. */
export function podTemplateHash(template: unknown): string {
  return safeEncode(String(fnv32a(canonicalJson(template))));
}

/** Five random characters of the safe alphabet, as a ReplicaSet's generateName suffix. */
export function randomSuffix(random: (max: number) => number = randomInt): string {
  let out = "";
  for (let i = 0; i < 5; i++) out += SAFE_ALPHABET[random(SAFE_ALPHABET.length)];
  return out;
}

export function podName(deployment: string, templateHash: string, suffix = randomSuffix()): string {
  return `${deployment}-${templateHash}-${suffix}`;
}

const POD_NAME = new RegExp(`^(.+)-([${SAFE_ALPHABET}]{1,10})-([${SAFE_ALPHABET}]{5})$`);

/** Splits a pod name into its Deployment, template hash and suffix, or undefined if it is not one. */
export function parsePodName(
  name: string,
): { deployment: string; templateHash: string; suffix: string } | undefined {
  const match = POD_NAME.exec(name);
  if (!match) return undefined;
  return { deployment: match[1] as string, templateHash: match[2] as string, suffix: match[3] as string };
}
