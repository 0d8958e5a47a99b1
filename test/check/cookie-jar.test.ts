import assert from "node:assert/strict";
import { test } from "node:test";
import { CookieJar } from "../../src/check/cookie-jar.js";

test("a browser jar takes every Set-Cookie, keeps quotes as sent, and deletes on Max-Age=0", () => {
  const jar = new CookieJar("browser");
  jar.receive([
    { name: "session-route", value: '"071ab12ec2c21647"', maxAge: 1800 },
    { name: "sid", value: "a.b" },
  ]);
  assert.equal(jar.header(), 'session-route="071ab12ec2c21647"; sid=a.b');
  jar.receive([{ name: "sid", value: "c.d" }]);
  assert.equal(jar.header(), 'session-route="071ab12ec2c21647"; sid=c.d');
  jar.receive([{ name: "session-route", value: "", maxAge: 0 }]);
  assert.equal(jar.header(), "sid=c.d");
});

test("a frozen jar keeps only the first response's cookies, like curl -c then curl -b", () => {
  const jar = new CookieJar("frozen");
  assert.equal(jar.header(), undefined);
  jar.receive([{ name: "sid", value: "first" }]);
  jar.receive([{ name: "sid", value: "second" }]);
  assert.equal(jar.header(), "sid=first");
});
