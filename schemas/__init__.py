"""JSON Schemas of the platform's own documents: the plugin manifest, the standard library, dictionary and
IoT-template meta-schemas, and the low-code app (lowcode-app.schema.json)."""
