"""A real OpenID Connect provider (panva/oidc-provider) standing in for a city portal in tests."""
