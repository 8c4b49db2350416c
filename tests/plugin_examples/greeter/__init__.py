"""A complete small plugin: settings, a page, an API, a menu entry and a check-in method."""
