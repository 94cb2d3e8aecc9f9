"""Counter desk pages for clerks (not built yet: the live floor issue)."""
