/** The container OSM's injector adds to each pod: Envoy. */
export const SIDECAR_CONTAINER = 'envoy';

/**
 * The sidecar's Envoy admin, which OSM's bootstrap puts on 127.0.0.1:15000 (outside the pod's traffic
 * capture). OSM 1.2 starts the app beside an Envoy that has no listeners yet and has no setting to hold it.
 */
export const ENVOY_ADMIN = 'http://127.0.0.1:15000';

/**
 * MeshConfig feature flag whose stats filter is a Wasm module OSM's release build compiles (wasm/stats.cc,
 * with the proxy-wasm SDK); the Go module carries a 165-byte text placeholder in its place, so a control
 * plane built from the module sends Envoy a module it rejects ("Failed to parse corrupted Wasm module":
 * every listener NACKed, measured 2026-12-07 with Envoy 1.40.0). Off on meshcheck's node
 * (clusters/profiles/osm.yaml nodeValues); Envoy's own statistics stay.
 */
export const WASM_STATS_FLAG = 'osm.featureFlags.enableWASMStats';
