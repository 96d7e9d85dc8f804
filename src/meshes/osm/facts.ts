/** The container OSM's injector adds to each pod: Envoy. */
export const SIDECAR_CONTAINER = 'envoy';
