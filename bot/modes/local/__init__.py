"""Local mode: the whole orchestra on one machine against a local git repository (`orchestra run`)."""
