Feature: Control plane outage
  The data plane keeps the last config it was given while the mesh control plane is away: routes,
  faults and endpoints stay as they were, and calls keep flowing while it restarts. On Istio the
  control plane is istiod; on the reference mesh it is meshcheck's own config push (a restart sends
  every sidecar its whole config again). The abort band is wider than fault-injection.feature's: the
  claim is that the share holds through the restart, decided on a 4 s load that spans it.

  Scenario: A traffic split holds while the control plane is stopped
    Given the "reviews" service runs versions "v1, v2"
    And traffic to "reviews" is split:
      | version | weight |
      | v1      | 80     |
      | v2      | 20     |
    And the mesh control plane is stopped
    When 2000 requests are sent to "reviews" at 500 rps
    Then version "v2" receives 20% ± 5% of requests
    And version "v1" receives 80% ± 5% of requests

  Scenario: An abort share holds while the control plane restarts
    Given "reviews" aborts 30% of requests with status 503
    When 2000 requests are sent to "reviews" at 500 rps while the mesh control plane restarts
    Then 30% ± 10% of responses have status 503
