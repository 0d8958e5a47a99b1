/**
 * Standard base64 with `=` padding over byte strings (each char one byte), with Envoy's strict
 * decoding: anything malformed decodes to "" (which the stateful-session code treats as absent).
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function encodeBase64(bytes: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes.charCodeAt(i);
    const b = i + 1 < bytes.length ? bytes.charCodeAt(i + 1) : 0;
    const c = i + 2 < bytes.length ? bytes.charCodeAt(i + 2) : 0;
    out += ALPHABET[a >> 2];
    out += ALPHABET[((a & 3) << 4) | (b >> 4)];
    out += i + 1 < bytes.length ? ALPHABET[((b & 15) << 2) | (c >> 6)] : "=";
    out += i + 2 < bytes.length ? ALPHABET[c & 63] : "=";
  }
  return out;
}

export function decodeBase64(text: string): string {
  if (text === "" || !STRICT.test(text)) return "";
  const body = text.replace(/=+$/, "");
  // Leftover bits in the last character must be zero, as in Envoy's decoder.
  const last = ALPHABET.indexOf(body[body.length - 1] as string);
  if ((body.length % 4 === 2 && (last & 15) !== 0) || (body.length % 4 === 3 && (last & 3) !== 0)) return "";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const ch of body) {
    value = (value << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 255);
    }
  }
  return out;
}
