Feature: Mutual TLS
  STRICT refuses plaintext at the connection; PERMISSIVE accepts both.

  Scenario: Under STRICT a plaintext client is refused and meshed calls still work
    Given mTLS is STRICT for "reviews"
    When a plaintext client outside the mesh calls "reviews"
    Then the plaintext call is rejected
    When 200 requests are sent to "reviews" at 400 rps
    Then all responses have status 200

  Scenario: Under PERMISSIVE a plaintext client gets through
    Given mTLS is PERMISSIVE for the namespace
    When a plaintext client outside the mesh calls "reviews"
    Then the plaintext call succeeds
