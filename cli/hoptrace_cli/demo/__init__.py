"""`hoptrace demo`: the bundled shop (demo_services/) running in the local cloud, traced, with traffic."""
