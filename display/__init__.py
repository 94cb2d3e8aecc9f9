"""Hall display page and announcements (not built yet: the live floor issue)."""
