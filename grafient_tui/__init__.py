"""Grafient TUI: Cursor Enterprise AI spend in the terminal."""

__version__ = "0.1.0"
