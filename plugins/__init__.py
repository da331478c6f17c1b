"""Plugins shipped with Verbandswiki; enable them with ``WIKI_PLUGINS``."""
