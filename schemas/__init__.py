"""JSON Schemas of the platform's own documents (plugin manifest, low-code forms, alert rules,
standard-entity meta-schema) live here as they are introduced."""
