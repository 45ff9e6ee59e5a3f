"""Authoring: solution notebooks to student labs and the hand-out, validation, reference GANs."""
