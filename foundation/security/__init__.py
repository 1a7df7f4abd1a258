"""Protection of personal data: field encryption, masking, password hashing."""
