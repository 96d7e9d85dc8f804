Feature: Fault injection
  The mesh injects aborts and delays for a share of the calls to a service, on the caller's side.

  Scenario: A share of calls to reviews is aborted with 503
    Given "reviews" aborts 30% of requests with status 503
    When 3000 requests are sent to "reviews" at 500 rps
    Then 30% ± 5% of responses have status 503
    And the mesh reports at least 10 responses with status 503 for "reviews"

  Scenario: A share of calls to reviews is delayed
    Given "reviews" delays 50% of requests by 200ms
    When 400 requests are sent to "reviews" at 200 rps
    Then the p90 latency is at least 200ms
    And the p25 latency is below 100ms
