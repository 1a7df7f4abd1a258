"""Browser fixtures (headless Debian Chromium driven by Playwright) live in tests/conftest.py, shared by
every test that needs a real browser."""
