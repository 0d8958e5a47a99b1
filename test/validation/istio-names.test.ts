import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  fqdnProblem,
  goNumber,
  goQuote,
  labelProblems,
  percentageProblem,
  percentProblem,
  portProblem,
  wildcardDomainProblem,
} from "../../src/validation/istio-names.js";

// Istio 1.30.3's own tables (istio/istio pkg/config/validation/agent/validation_test.go and
// pkg/config/labels/instance_test.go) for the helpers istiod's webhook shares between kinds.

describe("ValidateWildcardDomain (agent/validation_test.go TestValidateWildcardDomain)", () => {
  // [name, domain, substring of the error; "" = valid]
  const cases: readonly [string, string, string][] = [
    ["empty", "", "empty"],
    ["too long", "x".repeat(256), "too long"],
    ["happy", "x".repeat(63), ""],
    ["wildcard", "*", ""],
    ["wildcard multi-segment", "*.bar.com", ""],
    ["wildcard single segment", "*foo", ""],
    ["wildcard prefix", "*foo.bar.com", ""],
    ["wildcard prefix dash", "*-foo.bar.com", ""],
    ["bad wildcard", "foo.*.com", "invalid"],
    ["bad wildcard", "foo*.bar.com", "invalid"],
    ["IP address", "1.1.1.1", "invalid"],
  ];
  for (const [name, domain, out] of cases) {
    it(`${name}: ${domain.length > 20 ? `${domain.slice(0, 8)}… (${domain.length})` : domain}`, () => {
      const problem = wildcardDomainProblem(domain);
      if (out === "") assert.equal(problem, undefined);
      else assert.ok(problem?.includes(out), `${JSON.stringify(problem)} lacks ${JSON.stringify(out)}`);
    });
  }

  it("quotes the whole domain for the first label, only the rest for later ones (Go's code)", () => {
    assert.equal(
      wildcardDomainProblem("foo*.bar.com"),
      'domain name "foo*.bar.com" invalid (label "foo*" invalid)',
    );
    assert.equal(wildcardDomainProblem("foo.*.com"), 'domain name "*.com" invalid (label "*" invalid)');
    assert.equal(
      wildcardDomainProblem("1.1.1.1"),
      'domain name "1.1.1" invalid (top level domain "1" cannot be all-numeric)',
    );
    assert.equal(wildcardDomainProblem(""), "empty domain name not allowed");
  });

  it("counts bytes as Go's len does, and an all-numeric TLD is one strconv.Atoi reads", () => {
    // 128 two-byte characters: 256 bytes, over CheckDNS1123Preconditions' 255.
    assert.match(wildcardDomainProblem("é".repeat(128)) ?? "", /too long \(max 255\)$/);
    // Beyond int64 Atoi fails, so the label is just a label.
    assert.equal(wildcardDomainProblem("foo.99999999999999999999"), undefined);
    assert.match(wildcardDomainProblem("foo.-1") ?? "", /top level domain "-1" cannot be all-numeric/);
  });
});

describe("ValidateFQDN (agent/validation_test.go TestValidateFQDN)", () => {
  const cases: readonly [string, string, boolean][] = [
    ["long FQDN", "x".repeat(256), false],
    ["empty FQDN", "", false],
    ["standard FQDN", "istio.io", true],
    ["unambiguous FQDN", "istio.io.", true],
    ["standard kubernetes FQDN", "istio-pilot.istio-system.svc.cluster.local", true],
    ["unambiguous kubernetes FQDN", "istio-pilot.istio-system.svc.cluster.local.", true],
  ];
  for (const [name, fqdn, valid] of cases) {
    it(name, () => assert.equal(fqdnProblem(fqdn) === undefined, valid, String(fqdnProblem(fqdn))));
  }
});

describe("ValidatePort (agent/validation_test.go TestValidatePort)", () => {
  const ports: readonly [number, boolean][] = [
    [0, false],
    [65536, false],
    [-1, false],
    [100, true],
    [1000, true],
    [65535, true],
  ];
  for (const [port, valid] of ports) {
    it(String(port), () => assert.equal(portProblem(port) === undefined, valid));
  }
  it("says Go's message", () => {
    assert.equal(portProblem(65536), "port number 65536 must be in the range 1..65535");
  });
});

describe("ValidatePercent (validation.go), as the outlier detection tables use it", () => {
  // TestValidateOutlierDetection: maxEjectionPercent 50, 105; minHealthPercent -1, 101;
  // TestValidateTrafficPolicy / TestValidateDestinationRule: minHealthPercent 20, 30, -1; unset is 0.
  const cases: readonly [number, boolean][] = [
    [0, true],
    [20, true],
    [30, true],
    [50, true],
    [100, true],
    [105, false],
    [101, false],
    [-1, false],
  ];
  for (const [value, valid] of cases) {
    it(String(value), () => assert.equal(percentProblem(value) === undefined, valid));
  }
  it("prints the int32 with %v", () => {
    assert.equal(percentProblem(105), "percentage 105 is not in range 0..100");
    assert.equal(percentProblem(-1), "percentage -1 is not in range 0..100");
  });
});

describe("validatePercentage (validation.go), as the fault and mirror tables use it", () => {
  // TestValidateHTTPFaultInjectionAbort / TestValidateHTTPFaultInjectionDelay: 20, 0.001 valid;
  // -10, 101 invalid. TestValidateHTTPRoute mirrorPercentage / mirrors: 1, 50 valid; 101, -1 invalid.
  const cases: readonly [number, boolean][] = [
    [20, true],
    [0.001, true],
    [1, true],
    [50, true],
    [0, true],
    [100, true],
    [0.0001, true],
    [-10, false],
    [101, false],
    [-1, false],
    [0.00001, false],
  ];
  for (const [value, valid] of cases) {
    it(String(value), () => assert.equal(percentageProblem(value) === undefined, valid));
  }
  it("prints the float64 with %v", () => {
    assert.equal(percentageProblem(101), "percentage 101 is neither 0.0, nor in range [0.0001, 100.0]");
    assert.equal(percentageProblem(-10.5), "percentage -10.5 is neither 0.0, nor in range [0.0001, 100.0]");
    assert.equal(percentageProblem(0.00001), "percentage 1e-05 is neither 0.0, nor in range [0.0001, 100.0]");
    assert.equal(percentageProblem(1e6), "percentage 1e+06 is neither 0.0, nor in range [0.0001, 100.0]");
  });
});

describe("labels.Instance.Validate (pkg/config/labels/instance_test.go TestInstanceValidate)", () => {
  const cases: readonly [string, Record<string, string>, boolean][] = [
    ["empty tags", {}, true],
    ["bad tag", { "^": "^" }, false],
    ["good tag", { key: "value" }, true],
    ["good tag - empty value", { key: "" }, true],
    ["good tag - DNS prefix", { "k8s.io/key": "value" }, true],
    ["good tag - subdomain DNS prefix", { "app.kubernetes.io/name": "value" }, true],
    ["bad tag - empty key", { "": "value" }, false],
    ["bad tag key 1", { ".key": "value" }, false],
    ["bad tag key 2", { key_: "value" }, false],
    ["bad tag key 3", { key$: "value" }, false],
    ["bad tag key - invalid DNS prefix", { "istio./key": "value" }, false],
    ["bad tag value 1", { key: ".value" }, false],
    ["bad tag value 2", { key: "value_" }, false],
    ["bad tag value 3", { key: "value$" }, false],
  ];
  for (const [name, tags, valid] of cases) {
    it(name, () => assert.equal(labelProblems(tags).length === 0, valid, labelProblems(tags).join("; ")));
  }

  it("reads keys as Go's tagRegexp does: prefix labels may be upper case, lengths count after a match", () => {
    assert.deepEqual(labelProblems({ "Example.COM/key": "v" }), []);
    assert.deepEqual(labelProblems({ [`${"a".repeat(254)}/key`]: "v" }), [
      `invalid tag key: "${"a".repeat(254)}/key" (DNS prefix is too long)`,
    ]);
    // Not a DNS name at all: the plain message, whatever its length.
    assert.deepEqual(labelProblems({ [`${"_".repeat(254)}/key`]: "v" }), [
      `invalid tag key: "${"_".repeat(254)}/key"`,
    ]);
    assert.deepEqual(labelProblems({ ["k".repeat(64)]: "v" }), [
      `invalid tag key: "${"k".repeat(64)}" (name is too long)`,
    ]);
    assert.deepEqual(labelProblems({ "a\tb": "c\u0000" }), [
      'invalid tag key: "a\\tb"',
      'invalid tag value: "c\\x00"',
    ]);
  });
});

describe("Go's formatting of values in messages", () => {
  it("%q (strconv.Quote)", () => {
    assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goQuote("\u0007\b\f\n\r\t\v\u0001\u007f"), '"\\a\\b\\f\\n\\r\\t\\v\\x01\\x7f"');
    assert.equal(goQuote("é日本"), '"é日本"');
    assert.equal(goQuote("\u00a0\u00ad\u0085\u2028\ufeff"), '"\\u00a0\\u00ad\\u0085\\u2028\\ufeff"');
    assert.equal(goQuote("\u{1F600}\u{E0001}"), '"\u{1F600}\\U000e0001"');
  });

  it("%v of a float64 (shortest 'g': exponent below 1e-4 and from 1e6)", () => {
    assert.equal(goNumber(101), "101");
    assert.equal(goNumber(0.0001), "0.0001");
    assert.equal(goNumber(0.00001), "1e-05");
    assert.equal(goNumber(123456), "123456");
    assert.equal(goNumber(1234567), "1.234567e+06");
    assert.equal(goNumber(1e21), "1e+21");
    assert.equal(goNumber(-2.5e-7), "-2.5e-07");
    assert.equal(goNumber(Number.POSITIVE_INFINITY), "+Inf");
  });
});
