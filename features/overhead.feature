Feature: Overhead
  What two sidecar hops add over calling the workload directly, at a fixed rate.

  The bounds cover what the reference sidecar measured on 2-core VMs of the kind the suite runs on
  (bench/RESULTS.md, 2026-12-01), whose speed moves by up to 4x with their host: added p50 0.19-0.40 ms
  on a quiet host and 0.7-0.9 ms on a slow one (interval tops up to 2.4 ms); added p90 0.5-1.3 ms
  quiet or with another process keeping a core busy, 4.7-6.8 ms slow (tops up to 12.5 ms); 0.12-0.69
  vCPU per 1000 rps (tops up to 0.91); 62-77 MB. Each bound leaves about twice the worst interval
  top. While the host took more than a fifth of the CPUs for other guests, latency went beyond even
  these (added p50 2-9 ms): such rounds are not healthy loads, so they are left out of the comparison
  and further rounds run in their place (up to twice the stated rounds); when most rounds are still
  like that, a bound they break is INCONCLUSIVE with the figures, not FAILED.
  The design's performance bar (0.25 vCPU, added p50 0.5 ms) is checked by npm run bench, not here.

  Scenario: Added latency and sidecar resources at 500 rps
    When 500 rps are sent to "reviews" for 3s with and without the mesh
    Then the added p50 latency is below 5ms
    And the added p90 latency is below 25ms
    And each sidecar uses less than 1.5 vCPU per 1000 rps
    And each sidecar uses less than 150 MB of memory

  # The conditions Istio's published sidecar figures were measured under (1 KB payloads, 1000 rps, 4
  # client connections, mTLS between sidecars; clusters/figures), so the comparative report sets this
  # run beside them with fewer conditions differing. The bounds are the scenario's above: the same
  # machines, a rate twice as high.
  Scenario: Added latency and sidecar resources as Istio's figures were measured
    When 1000 rps are sent to "reviews" for 3s with and without the mesh, as 1024-byte requests over 4 connections
    Then the added p50 latency is below 5ms
    And the added p90 latency is below 25ms
    And each sidecar uses less than 1.5 vCPU per 1000 rps
    And each sidecar uses less than 150 MB of memory
