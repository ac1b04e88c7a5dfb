"""REST endpoints of the emulated platform, one module per resource family."""
