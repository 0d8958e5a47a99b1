/**
 * google.protobuf.FieldMask applied to config dump JSON the way Envoy's /config_dump applies it
 * (envoy: source/server/admin/config_dump_handler.cc, with protobuf's
 * src/google/protobuf/util/field_mask_util.cc): paths use proto field names, a path is valid only if
 * every step but the last is a singular message field, and trimming keeps exactly the listed fields.
 *
 * Validating a path needs the message's fields even when they are unset, so the fields of every
 * message a dump can be masked through are listed below, copied from Envoy's .proto files (the test
 * compares this table with them). Messages beyond the table ("?") are judged by the JSON itself:
 * an array or a scalar cannot be stepped into, anything else is taken as a message.
 */

/** Where Any payloads name their type. */
export const TYPE_URL_PREFIX = "type.googleapis.com/";

/**
 * Fields by proto name, per message full name. `f` scalar or enum, `f*` repeated or map (`f*T` a
 * repeated message of table type T), `f:T` a singular message (T by the last part of its name), `f:?`
 * a singular message outside the table.
 */
export const MESSAGE_FIELDS: Readonly<Record<string, string>> = {
  "envoy.admin.v3.BootstrapConfigDump": `bootstrap:Bootstrap last_updated:Timestamp`,
  "envoy.admin.v3.ClustersConfigDump": `version_info static_clusters*StaticCluster
    dynamic_active_clusters*DynamicCluster dynamic_warming_clusters*DynamicCluster`,
  "envoy.admin.v3.ClustersConfigDump.StaticCluster": `cluster:Any last_updated:Timestamp`,
  "envoy.admin.v3.ClustersConfigDump.DynamicCluster": `version_info cluster:Any last_updated:Timestamp
    error_state:UpdateFailureState client_status`,
  "envoy.admin.v3.EndpointsConfigDump": `static_endpoint_configs*StaticEndpointConfig
    dynamic_endpoint_configs*DynamicEndpointConfig`,
  "envoy.admin.v3.EndpointsConfigDump.StaticEndpointConfig": `endpoint_config:Any last_updated:Timestamp`,
  "envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig": `version_info endpoint_config:Any
    last_updated:Timestamp error_state:UpdateFailureState client_status`,
  "envoy.admin.v3.ListenersConfigDump": `version_info static_listeners*StaticListener
    dynamic_listeners*DynamicListener`,
  "envoy.admin.v3.ListenersConfigDump.StaticListener": `listener:Any last_updated:Timestamp`,
  "envoy.admin.v3.ListenersConfigDump.DynamicListener": `name active_state:DynamicListenerState
    warming_state:DynamicListenerState draining_state:DynamicListenerState error_state:UpdateFailureState
    client_status`,
  "envoy.admin.v3.ListenersConfigDump.DynamicListenerState": `version_info listener:Any
    last_updated:Timestamp`,
  "envoy.admin.v3.ScopedRoutesConfigDump": `inline_scoped_route_configs*InlineScopedRouteConfigs
    dynamic_scoped_route_configs*DynamicScopedRouteConfigs`,
  "envoy.admin.v3.ScopedRoutesConfigDump.InlineScopedRouteConfigs": `name scoped_route_configs*Any
    last_updated:Timestamp`,
  "envoy.admin.v3.ScopedRoutesConfigDump.DynamicScopedRouteConfigs": `name version_info
    scoped_route_configs*Any last_updated:Timestamp error_state:UpdateFailureState client_status`,
  "envoy.admin.v3.RoutesConfigDump": `static_route_configs*StaticRouteConfig
    dynamic_route_configs*DynamicRouteConfig`,
  "envoy.admin.v3.RoutesConfigDump.StaticRouteConfig": `route_config:Any last_updated:Timestamp`,
  "envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig": `version_info route_config:Any
    last_updated:Timestamp error_state:UpdateFailureState client_status`,
  "envoy.admin.v3.SecretsConfigDump": `static_secrets*StaticSecret dynamic_active_secrets*DynamicSecret
    dynamic_warming_secrets*DynamicSecret`,
  "envoy.admin.v3.SecretsConfigDump.DynamicSecret": `name version_info last_updated:Timestamp secret:Any
    error_state:UpdateFailureState client_status`,
  "envoy.admin.v3.SecretsConfigDump.StaticSecret": `name last_updated:Timestamp secret:Any`,
  "envoy.admin.v3.UpdateFailureState": `failed_configuration:Any last_update_attempt:Timestamp details
    version_info`,
  "envoy.config.bootstrap.v3.Bootstrap": `node:Node node_context_params* static_resources:?
    dynamic_resources:DynamicResources cluster_manager:? hds_config:ApiConfigSource flags_path stats_sinks*
    deferred_stat_options:? stats_config:? stats_flush_interval:Duration stats_flush_on_admin watchdog:?
    watchdogs:? tracing:? layered_runtime:? admin:Admin overload_manager:? enable_dispatcher_stats
    header_prefix stats_server_version_override:UInt64Value use_tcp_for_dns_lookups dns_resolution_config:?
    typed_dns_resolver_config:? bootstrap_extensions* fatal_actions* config_sources*ConfigSource
    default_config_source:ConfigSource default_socket_interface certificate_provider_instances*
    inline_headers* perf_tracing_file_path default_regex_engine:? xds_delegate_extension:?
    xds_config_tracker_extension:? listener_manager:? application_log_config:?
    grpc_async_client_manager_config:? memory_allocator_manager:?`,
  "envoy.config.bootstrap.v3.Admin": `access_log* access_log_path profile_path address:Address
    socket_options* ignore_global_conn_limit`,
  "envoy.config.bootstrap.v3.Bootstrap.DynamicResources": `lds_config:ConfigSource lds_resources_locator
    cds_config:ConfigSource cds_resources_locator ads_config:ApiConfigSource`,
  "envoy.config.core.v3.Node": `id cluster metadata:Struct dynamic_parameters* locality:Locality
    user_agent_name user_agent_version user_agent_build_version:BuildVersion extensions* client_features*
    listening_addresses*Address`,
  "envoy.config.core.v3.BuildVersion": `version:SemanticVersion metadata:Struct`,
  "envoy.type.v3.SemanticVersion": `major_number minor_number patch`,
  "envoy.config.core.v3.Locality": `region zone sub_zone`,
  "envoy.config.core.v3.Metadata": `filter_metadata* typed_filter_metadata*`,
  "envoy.config.core.v3.Address": `socket_address:SocketAddress pipe:? envoy_internal_address:?`,
  "envoy.config.core.v3.SocketAddress": `protocol address port_value named_port resolver_name ipv4_compat`,
  "envoy.config.core.v3.ConfigSource": `authorities* path path_config_source:?
    api_config_source:ApiConfigSource ads:? self:? initial_fetch_timeout:Duration resource_api_version`,
  "envoy.config.core.v3.ApiConfigSource": `api_type transport_api_version cluster_names* grpc_services*
    refresh_delay:Duration request_timeout:Duration rate_limit_settings:? set_node_on_first_message_only
    config_validators*`,
  "envoy.config.cluster.v3.Cluster": `transport_socket_matches* name alt_stat_name type cluster_type:?
    eds_cluster_config:? connect_timeout:Duration per_connection_buffer_limit_bytes:UInt32Value lb_policy
    load_assignment:ClusterLoadAssignment health_checks* max_requests_per_connection:UInt32Value
    circuit_breakers:? upstream_http_protocol_options:? common_http_protocol_options:?
    http_protocol_options:? http2_protocol_options:? typed_extension_protocol_options*
    dns_refresh_rate:Duration dns_failure_refresh_rate:? respect_dns_ttl dns_lookup_family
    dns_resolvers*Address use_tcp_for_dns_lookups dns_resolution_config:? typed_dns_resolver_config:?
    wait_for_warm_on_init:BoolValue outlier_detection:? cleanup_interval:Duration upstream_bind_config:?
    lb_subset_config:? ring_hash_lb_config:? maglev_lb_config:? original_dst_lb_config:?
    least_request_lb_config:? round_robin_lb_config:? common_lb_config:? transport_socket:?
    metadata:Metadata protocol_selection upstream_connection_options:?
    close_connections_on_host_health_failure ignore_health_on_host_removal filters* load_balancing_policy:?
    lrs_server:ConfigSource lrs_report_endpoint_metrics* track_timeout_budgets upstream_config:?
    track_cluster_stats:? preconnect_policy:? connection_pool_per_downstream_connection`,
  "envoy.config.listener.v3.Listener": `name address:Address additional_addresses* stat_prefix
    filter_chains* filter_chain_matcher:? use_original_dst:BoolValue default_filter_chain:?
    per_connection_buffer_limit_bytes:UInt32Value metadata:Metadata deprecated_v1:? drain_type
    listener_filters* listener_filters_timeout:Duration continue_on_listener_filters_timeout
    transparent:BoolValue freebind:BoolValue socket_options* tcp_fast_open_queue_length:UInt32Value
    traffic_direction udp_listener_config:? api_listener:? connection_balance_config:? reuse_port
    enable_reuse_port:BoolValue access_log* tcp_backlog_size:UInt32Value
    max_connections_to_accept_per_socket_event:UInt32Value bind_to_port:BoolValue internal_listener:?
    enable_mptcp ignore_global_conn_limit bypass_overload_manager`,
  "envoy.config.route.v3.RouteConfiguration": `name virtual_hosts* vhds:? internal_only_headers*
    response_headers_to_add* response_headers_to_remove* request_headers_to_add* request_headers_to_remove*
    most_specific_header_mutations_wins validate_clusters:BoolValue
    max_direct_response_body_size_bytes:UInt32Value cluster_specifier_plugins* request_mirror_policies*
    ignore_port_in_host_matching ignore_path_parameters_in_path_matching typed_per_filter_config*
    metadata:Metadata`,
  "envoy.config.endpoint.v3.ClusterLoadAssignment": `cluster_name endpoints* named_endpoints* policy:Policy`,
  "envoy.config.endpoint.v3.ClusterLoadAssignment.Policy": `drop_overloads*
    overprovisioning_factor:UInt32Value endpoint_stale_after:Duration weighted_priority_health`,
  "google.protobuf.Any": `type_url value`,
  "google.protobuf.Timestamp": `seconds nanos`,
  "google.protobuf.Duration": `seconds nanos`,
  "google.protobuf.Struct": `fields*`,
  "google.protobuf.UInt32Value": `value`,
  "google.protobuf.UInt64Value": `value`,
  "google.protobuf.BoolValue": `value`,
  "google.protobuf.DoubleValue": `value`,
};

/** One field of a message in the table. */
export interface FieldInfo {
  readonly name: string;
  /** The proto3 JSON name, as protoc derives it (`consecutive_5xx` → `consecutive5xx`). */
  readonly json: string;
  readonly repeated: boolean;
  /** Full name of the message type when it is in the table, "?" for another message, else undefined. */
  readonly type: string | undefined;
}

type Json = Record<string, unknown>;

const shortNames = new Map(
  Object.keys(MESSAGE_FIELDS).map((full) => [full.slice(full.lastIndexOf(".") + 1), full]),
);
const parsed = new Map<string, ReadonlyMap<string, FieldInfo>>();

/** protoc's ToJsonName: drop each underscore and upper-case the letter after it. */
export function jsonName(protoName: string): string {
  return protoName.replace(/_(.)/g, (_, c: string) => c.toUpperCase()).replaceAll("_", "");
}

/** The fields of a message in the table, by proto name. */
export function messageFields(fullName: string): ReadonlyMap<string, FieldInfo> {
  let fields = parsed.get(fullName);
  if (fields) return fields;
  const map = new Map<string, FieldInfo>();
  for (const token of (MESSAGE_FIELDS[fullName] ?? "").split(/\s+/).filter(Boolean)) {
    const [, name = "", mark, ref] = /^(\w+)([*:]?)(.*)$/.exec(token) ?? [];
    const type = ref === "?" ? "?" : ref ? shortNames.get(ref) : undefined;
    map.set(name, { name, json: jsonName(name), repeated: mark === "*", type });
  }
  fields = map;
  parsed.set(fullName, fields);
  return fields;
}

export function typeUrl(fullName: string): string {
  return TYPE_URL_PREFIX + fullName;
}

/** The table's name for an Any's "@type", or "?" when the table does not describe it. */
export function typeOfAny(value: unknown): string {
  const url = isObject(value) ? value["@type"] : undefined;
  const name =
    typeof url === "string" && url.startsWith(TYPE_URL_PREFIX) ? url.slice(TYPE_URL_PREFIX.length) : "";
  return MESSAGE_FIELDS[name] === undefined ? "?" : name;
}

/** FieldMaskUtil::FromString: comma-separated paths, empty ones skipped. */
export function parseFieldMask(mask: string): string[] {
  return mask.split(",").filter((path) => path !== "");
}

/** FieldMask::DebugString, which Envoy quotes when a mask cannot be used on a resource. */
export function fieldMaskDebugString(paths: readonly string[]): string {
  return paths.map((path) => `paths: "${cEscape(path)}"\n`).join("");
}

/**
 * FieldMaskUtil::GetFieldDescriptors for every path: each step names a field of the message reached so
 * far, and only singular message fields can be stepped through.
 */
export function maskFits(fullName: string, paths: readonly string[], value: unknown): boolean {
  return paths.every((path) => pathFits(fullName, path.split("."), value));
}

function pathFits(fullName: string, steps: readonly string[], value: unknown): boolean {
  let type: string | undefined = fullName;
  let at = value;
  for (const step of steps) {
    if (type === undefined) return false;
    if (type === "?") {
      const next = isObject(at) ? at[jsonName(step)] : undefined;
      type = next === undefined || isObject(next) ? "?" : undefined;
      at = next;
      continue;
    }
    const field = messageFields(type).get(step);
    if (!field) return false;
    type = field.repeated ? undefined : field.type;
    at = isObject(at) ? at[field.json] : undefined;
  }
  return true;
}

/** A FieldMaskTree: children by proto field name; a node without children covers the whole field. */
type MaskTree = Map<string, MaskTree>;

function maskTree(paths: readonly string[]): MaskTree {
  const root: MaskTree = new Map();
  for (const path of paths) {
    let node = root;
    let newBranch = false;
    let covered = false;
    for (const step of path.split(".")) {
      // A path under one already in the tree adds nothing.
      if (!newBranch && node !== root && node.size === 0) {
        covered = true;
        break;
      }
      let child = node.get(step);
      if (!child) {
        newBranch = true;
        child = new Map();
        node.set(step, child);
      }
      node = child;
    }
    // A path above ones already in the tree now covers them all.
    if (!covered) node.clear();
  }
  return root;
}

/** FieldMaskUtil::TrimMessage on JSON: only the masked fields stay; an empty mask keeps everything. */
export function trimMessage(fullName: string, paths: readonly string[], value: Json): Json {
  const tree = maskTree(paths);
  return tree.size === 0 ? value : trim(fullName, tree, value);
}

function trim(type: string, node: MaskTree, value: Json): Json {
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (type === "google.protobuf.Any") {
      // An Any holds type_url and value; its JSON spreads the value's fields beside "@type".
      if (node.has(key === "@type" ? "type_url" : "value")) out[key] = v;
      continue;
    }
    if (key === "@type") {
      out[key] = v;
      continue;
    }
    const field = type === "?" ? undefined : fieldsByJson(type).get(key);
    const name = field?.name ?? [...node.keys()].find((n) => jsonName(n) === key);
    const child = name === undefined ? undefined : node.get(name);
    if (!child) continue;
    const childType = field ? field.type : "?";
    // Well-known types print as scalars and Struct as a map, so what is kept of them is kept whole.
    out[key] =
      child.size > 0 && isObject(v) && childType && !WHOLE.has(childType) ? trim(childType, child, v) : v;
  }
  return out;
}

const WHOLE = new Set(["google.protobuf.Struct"]);

const byJson = new Map<string, ReadonlyMap<string, FieldInfo>>();

function fieldsByJson(fullName: string): ReadonlyMap<string, FieldInfo> {
  let fields = byJson.get(fullName);
  if (!fields) {
    fields = new Map([...messageFields(fullName).values()].map((f) => [f.json, f]));
    byJson.set(fullName, fields);
  }
  return fields;
}

/**
 * Envoy's trimResourceMessage for one element of `?resource=`: paths that start with the element's
 * singular Any field are applied inside the packed resource (minus that first step), the rest to the
 * element, with the Any field kept whole. Undefined when a path does not fit, which Envoy answers
 * with 400. A bare Any field name leaves an empty inner path, which never fits.
 */
export function trimResource(fullName: string, paths: readonly string[], element: Json): Json | undefined {
  const fields = messageFields(fullName);
  const outer: string[] = [];
  const inner: string[] = [];
  let anyField: FieldInfo | undefined;
  for (const path of paths) {
    const [first = "", ...rest] = path.split(".");
    const field = fields.get(first);
    if (field && !field.repeated && field.type === "google.protobuf.Any") {
      // Envoy assumes one Any per element and sends every inner path to the first one named.
      anyField ??= field;
      outer.push(first);
      inner.push(rest.join("."));
    } else {
      outer.push(path);
    }
  }
  let result = element;
  const packed = anyField ? element[anyField.json] : undefined;
  if (anyField && isObject(packed)) {
    const innerType = typeOfAny(packed);
    if (!maskFits(innerType, inner, packed)) return undefined;
    // The packed resource's own "@type" survives the trim, as PackFrom writes it back.
    result = { ...element, [anyField.json]: trimMessage(innerType, inner, packed) };
  }
  if (!maskFits(fullName, outer, result)) return undefined;
  return trimMessage(fullName, outer, result);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** absl::CEscape, as protobuf's text format quotes a string. */
function cEscape(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const named = C_ESCAPES[byte];
    if (named) out += named;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

const C_ESCAPES: Record<number, string> = {
  10: "\\n",
  13: "\\r",
  9: "\\t",
  34: '\\"',
  39: "\\'",
  92: "\\\\",
};
