/** Where a Debian package's program is: PATH, then the sbin folders a non-root PATH often lacks. */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}
