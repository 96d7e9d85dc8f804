Feature: Traffic shifting
  Weighted routing by version and routing by request header.

  Scenario: Traffic to reviews is split 80/20 between v1 and v2
    Given the "reviews" service runs versions "v1, v2"
    And traffic to "reviews" is split:
      | version | weight |
      | v1      | 80     |
      | v2      | 20     |
    When 2000 requests are sent to "reviews" at 1000 rps
    Then version "v2" receives 20% ± 5% of requests
    And version "v1" receives 80% ± 5% of requests

  Scenario: A user's requests go to v2 by header
    Given requests to "reviews" with header "end-user" = "jason" go to version "v2"
    When 200 requests with header "end-user" = "jason" are sent to "reviews" at 400 rps
    Then every response comes from version "v2"
