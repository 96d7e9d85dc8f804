Feature: Authorization
  Deny by default and allow one caller identity; a denied call gets 403.

  Scenario: The allowed caller gets through
    Given only "productpage" may call "reviews"
    When "productpage" sends 200 requests to "reviews" at 400 rps
    Then all responses have status 200

  Scenario: Any other caller is denied
    Given only "productpage" may call "reviews"
    When 200 requests are sent to "reviews" at 400 rps
    Then all responses have status 403
