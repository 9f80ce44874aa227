"""Widgets shared by the screens: the integration card, the summary bar, the welcome panel."""
