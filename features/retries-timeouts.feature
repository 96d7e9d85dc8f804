Feature: Retries and timeouts
  Retries hide a failing instance; a route timeout answers 504.

  Scenario: Retries on 5xx hide a failing instance
    Given one instance of "reviews" fails every request with status 503
    And calls to "reviews" are retried up to 2 times on 5xx
    When 300 requests are sent to "reviews" at 300 rps
    Then all responses have status 200
    And the mesh reports a success rate above 99% for "reviews" over 1m

  Scenario: A slow service times out with 504
    Given "ratings" takes 300ms to respond
    And calls to "ratings" time out after 100ms
    When 100 requests are sent to "ratings" at 100 rps
    Then all responses have status 504
    And the p50 latency is below 200ms
