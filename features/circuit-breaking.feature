Feature: Circuit breaking
  Connection-pool limits reject overflow with 503; consecutive 5xx eject a host.

  Scenario: Overflowing the connection pool trips the breaker
    Given "reviews" takes 50ms to respond
    And "reviews" allows at most 1 connection and 1 pending request
    When 50 concurrent requests are sent to "reviews"
    Then at least 1 request is rejected by the circuit breaker

  Scenario: A failing instance is ejected
    Given one instance of "reviews" fails every request with status 503
    And "reviews" ejects a host after 3 consecutive 5xx for 30s
    And calls to "reviews" are retried up to 0 times on 5xx
    When 600 requests are sent to "reviews" at 300 rps
    Then fewer than 5% of responses have status 503
