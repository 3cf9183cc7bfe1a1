"""The web front door: verified, deduplicated webhook deliveries turned into jobs."""
