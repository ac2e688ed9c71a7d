"""A local AWS emulator that speaks the real wire protocols (see ../README.md)."""
