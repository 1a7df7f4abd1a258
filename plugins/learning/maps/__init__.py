"""The district's knowledge map and resource library (district.json), seeded into each installing school."""
