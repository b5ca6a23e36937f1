"""Nightly backups of a SQLite database (the mechanics are in storage/backup.py)."""
