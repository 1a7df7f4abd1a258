"""Low-code forms (and, next, apps) that teachers clone and adapt."""
