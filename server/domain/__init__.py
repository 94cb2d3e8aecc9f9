"""The pure queue domain: no Flask, no SQLAlchemy, time passed in."""
