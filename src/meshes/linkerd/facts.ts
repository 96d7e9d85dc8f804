/** The namespace annotation that sets the default inbound policy; a proxy reads it when its pod starts. */
export const DEFAULT_INBOUND_POLICY = 'config.linkerd.io/default-inbound-policy';
