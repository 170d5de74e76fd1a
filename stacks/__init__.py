"""Stacks only compose constructs; `build_app` puts them together in deploy order."""
