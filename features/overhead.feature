Feature: Overhead
  What two sidecar hops add over calling the workload directly, at a fixed rate.

  Scenario: Added latency and sidecar resources at 500 rps
    When 500 rps are sent to "reviews" for 5s with and without the mesh
    Then the added p50 latency is below 1ms
    And the added p90 latency is below 5ms
    And each sidecar uses less than 0.5 vCPU per 1000 rps
    And each sidecar uses less than 150 MB of memory
