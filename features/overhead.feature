Feature: Overhead
  What two sidecar hops add over calling the workload directly, at a fixed rate.

  The bounds come from measurements on 2-core machines of the kind the suite runs on (bench/RESULTS.md,
  2026-12-01), quiet and with another process keeping one core busy: the reference sidecar added a p50
  of 0.19-0.40 ms (interval tops up to 0.45 ms) and a p90 of 0.5-1.3 ms (tops up to 3.0 ms), used
  0.12-0.22 vCPU per 1000 rps (tops up to 0.27) and 62-77 MB. Each bound is about twice the worst
  figure seen, because the same machine type has measured up to twice as slow when its host is busy.

  Scenario: Added latency and sidecar resources at 500 rps
    When 500 rps are sent to "reviews" for 3s with and without the mesh
    Then the added p50 latency is below 1ms
    And the added p90 latency is below 5ms
    And each sidecar uses less than 0.5 vCPU per 1000 rps
    And each sidecar uses less than 150 MB of memory
