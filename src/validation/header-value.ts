/**
 * istiod's ValidateHTTPHeaderValue (istio/istio pkg/config/validation/validation.go and
 * header_value_validator.go, a port of Envoy's router header_parser.cc): Envoy reads `%VAR%`,
 * `%VAR(args)%` and `%%` in header values it adds, so a stray `%` is refused before Envoy would
 * refuse the route. What is inside `%…%` is not checked against Envoy's variable names.
 */

/** A control character other than tab (protoc-gen-validate's header value rule). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

type State =
  | "Literal"
  | "VariableName"
  | "ExpectArray"
  | "ExpectString"
  | "String"
  | "ExpectArrayDelimiterOrEnd"
  | "ExpectArgsEnd"
  | "ExpectVariableEnd";

/**
 * validateHeaderValue: Envoy's parser state machine. Only ASCII characters steer it, so walking
 * UTF-16 units here is walking Go's bytes.
 */
function envoyFormatProblem(value: string): string | undefined {
  let state: State = "Literal";
  for (let pos = 0; pos < value.length; pos++) {
    const ch = value[pos];
    const hasNext = pos + 1 < value.length;
    switch (state) {
      case "Literal":
        if (ch !== "%") break;
        if (!hasNext) return "invalid header configuration. Un-escaped %";
        if (value[pos + 1] === "%") pos++;
        else state = "VariableName";
        break;
      case "VariableName":
        if (ch === "%") state = "Literal";
        else if (ch === "(") state = "ExpectArray";
        break;
      case "ExpectArray":
        if (ch === "[") state = "ExpectString";
        else if (ch !== " ") state = "String";
        break;
      case "ExpectArrayDelimiterOrEnd":
        if (ch === ",") state = "ExpectString";
        else if (ch === "]") state = "ExpectArgsEnd";
        else if (ch !== " ") return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case "ExpectString":
        if (ch === '"') state = "String";
        else if (ch !== " ") return "invalid header configuration. Expecting '\"'";
        break;
      case "String":
        if (ch === "\\") {
          if (!hasNext) return "invalid header configuration. Un-terminated backslash in JSON string";
          pos++;
        } else if (ch === ")") state = "ExpectVariableEnd";
        else if (ch === '"') state = "ExpectArrayDelimiterOrEnd";
        break;
      case "ExpectArgsEnd":
        if (ch === ")") state = "ExpectVariableEnd";
        else if (ch !== " ") {
          // Envoy's format string, copied into Go without its arguments.
          return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'";
        }
        break;
      case "ExpectVariableEnd":
        if (ch === "%") state = "Literal";
        else if (ch !== " ") return "invalid header configuration. Expecting '%' or whitespace after";
        break;
    }
  }
  if (state !== "Literal") {
    return `invalid header configuration. Un-terminated variable expression '${value}'`;
  }
  return undefined;
}

/** ValidateHTTPHeaderValue: Istio's message, or undefined when Envoy would take the value. */
export function headerValueProblem(value: string): string | undefined {
  if (hasControl(value)) return `header value configuration ${value} is invalid`;
  const problem = envoyFormatProblem(value);
  return problem === undefined ? undefined : `header value configuration: ${problem}`;
}
